"use strict";
/**
 * Runner for plugin_protocol/test_vectors.json (the rules are in plugin_protocol/spec.md, section
 * "Test vectors"): substitute ${VARIABLES}, send each vector in order, match the reply against
 * the expected shape ($type, $in, $prefix, $suffix, $gte, $lte, $len, $min_len, $items), save
 * fields for later vectors.
 */

const fs = require("fs");
const path = require("path");

const VECTORS = path.join(__dirname, "..", "..", "plugin_protocol", "test_vectors.json");
const VARIABLE = /\$\{([A-Z0-9_]+)\}/g;
const WHOLE_VARIABLE = /^\$\{([A-Z0-9_]+)\}$/;

const TYPES = {
  string: (v) => typeof v === "string",
  integer: (v) => typeof v === "number" && Number.isInteger(v),
  number: (v) => typeof v === "number",
  boolean: (v) => typeof v === "boolean",
  null: (v) => v === null,
  array: (v) => Array.isArray(v),
  object: (v) => v !== null && typeof v === "object" && !Array.isArray(v),
};

function load() {
  return JSON.parse(fs.readFileSync(VECTORS, "utf8"));
}

/** Replace ${NAME}; a string that is exactly one reference takes the variable's value and type. */
function substitute(value, variables) {
  if (typeof value === "string") {
    const whole = WHOLE_VARIABLE.exec(value);
    if (whole) return lookupVariable(variables, whole[1]);
    return value.replace(VARIABLE, (_m, name) => String(lookupVariable(variables, name)));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, variables));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, variables)]));
  }
  return value;
}

function lookupVariable(variables, name) {
  if (!(name in variables)) throw new Error(`test vector variable \${${name}} is not set`);
  return variables[name];
}

/** Follow a dotted path (object keys, array indexes) into a reply. */
function lookup(value, dotted) {
  return dotted.split(".").reduce((v, part) => (Array.isArray(v) ? v[Number(part)] : v[part]), value);
}

const show = (v) => JSON.stringify(v === undefined ? null : v).slice(0, 100);

function equal(a, b) {
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b) <= 1e-9;
  return a === b;
}

/** Every way `actual` fails `pattern` (empty when it matches). */
function match(pattern, actual, where = "$") {
  if (pattern !== null && typeof pattern === "object" && !Array.isArray(pattern)) {
    if (Object.keys(pattern).some((k) => k.startsWith("$"))) return operators(pattern, actual, where);
    if (!TYPES.object(actual)) return [`${where}: expected an object, got ${show(actual)}`];
    return Object.entries(pattern).flatMap(([key, sub]) =>
      key in actual ? match(sub, actual[key], `${where}.${key}`) : [`${where}.${key}: missing`]
    );
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual) || actual.length !== pattern.length) {
      return [`${where}: expected an array of ${pattern.length}, got ${show(actual)}`];
    }
    return pattern.flatMap((sub, i) => match(sub, actual[i], `${where}[${i}]`));
  }
  return equal(pattern, actual) ? [] : [`${where}: expected ${show(pattern)}, got ${show(actual)}`];
}

function operators(pattern, actual, where) {
  const problems = [];
  for (const [op, arg] of Object.entries(pattern)) {
    if (op === "$type") {
      if (!TYPES[arg](actual)) problems.push(`${where}: expected ${arg}, got ${show(actual)}`);
    } else if (op === "$in") {
      if (!arg.some((option) => match(option, actual, where).length === 0)) {
        problems.push(`${where}: ${show(actual)} matches none of ${show(arg)}`);
      }
    } else if (op === "$prefix" || op === "$suffix") {
      const ok = typeof actual === "string" && (op === "$prefix" ? actual.startsWith(arg) : actual.endsWith(arg));
      if (!ok) problems.push(`${where}: ${show(actual)} lacks ${op.slice(1)} ${show(arg)}`);
    } else if (op === "$gte" || op === "$lte") {
      const ok = typeof actual === "number" && (op === "$gte" ? actual >= arg : actual <= arg);
      if (!ok) problems.push(`${where}: ${show(actual)} is not ${op.slice(1)} ${arg}`);
    } else if (op === "$len" || op === "$min_len") {
      const n = Array.isArray(actual) ? actual.length : null;
      if (n === null || (op === "$len" ? n !== arg : n < arg)) {
        problems.push(`${where}: expected an array with ${op.slice(1)} ${arg}, got ${show(actual)}`);
      }
    } else if (op === "$items") {
      if (!Array.isArray(actual)) problems.push(`${where}: expected an array`);
      else actual.forEach((item, i) => problems.push(...match(arg, item, `${where}[${i}]`)));
    } else {
      problems.push(`${where}: unknown operator ${op}`);
    }
  }
  return problems;
}

/**
 * Run every vector in order through `send(text, id) -> Promise<reply>` (`id`: the request's id,
 * "" when it has no usable one). Resolves with {names, failures}.
 */
async function run(send, variables) {
  const vars = { ...variables };
  const names = [];
  const failures = [];
  for (const vector of load().vectors) {
    let text;
    let request = null;
    if ("send_raw" in vector) {
      text = substitute(vector.send_raw, vars);
    } else {
      request = substitute(vector.send, vars);
      text = JSON.stringify(request);
    }
    const usable = request && typeof request.id === "string" && request.id.length > 0 && request.id.length <= 128;
    const id = usable ? request.id : "";
    const reply = await send(text, id);
    names.push(vector.name);
    const problems = match(substitute(vector.expect, vars), reply);
    if (problems.length) {
      failures.push(`${vector.name}: ${problems.join("; ")}`);
      continue;
    }
    for (const [name, dotted] of Object.entries(vector.save || {})) vars[name] = lookup(reply, dotted);
  }
  return { names, failures };
}

module.exports = { run, match, substitute };
