"use strict";
/**
 * The Live Object Model as seen from Node for Max, which cannot reach it directly.
 *
 * Each operation leaves the node.script as `lom <json>`; in the patcher, [route lom] ->
 * [prepend request] -> [js ddbridge_lom.js] performs it with LiveAPI and answers with
 * `lom_result <json>` into the node.script. Operations (all on canonical LOM paths such as
 * "live_set tracks 0 devices 1"):
 *   {seq, op: "resolve", path}              -> {id, path, type}
 *   {seq, op: "get", path, name}            -> the property as a list of atoms
 *   {seq, op: "set", path, name, value}     -> the property as it is afterwards
 *   {seq, op: "getcount", path, name}       -> how many `name` children
 *   {seq, op: "info", path}                 -> LiveAPI's info text (children, properties, functions)
 *   {seq, op: "call", path, name, args}     -> the function's result
 */

class LiveError extends Error {
  constructor(message) {
    super(message);
    this.name = "LiveError";
  }
}

class Live {
  /** `send(json)` carries one operation to the [js] object; answers come back through `receive`. */
  constructor(send, { timeoutMs = 2000 } = {}) {
    this.send = send;
    this.timeoutMs = timeoutMs;
    this.seq = 0;
    this.pending = new Map();
  }

  /** Perform one operation; resolves with its value, rejects with a LiveError. */
  request(op) {
    this.seq += 1;
    const seq = this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new LiveError("Live did not answer: the device must run inside Live (its [js] reaches the LOM)"));
      }, this.timeoutMs);
      this.pending.set(seq, { resolve, reject, timer, op });
      this.send(JSON.stringify({ seq, ...op }));
    });
  }

  /** An answer from the [js] object (the `lom_result` message). */
  receive(text) {
    let result;
    try {
      result = JSON.parse(text);
    } catch {
      return;
    }
    const entry = this.pending.get(result.seq);
    if (!entry) return;
    this.pending.delete(result.seq);
    clearTimeout(entry.timer);
    if (result.ok) entry.resolve(result.value);
    else entry.reject(new LiveError(`${entry.op.op} ${entry.op.path}: ${result.error}`));
  }

  resolve(path) {
    return this.request({ op: "resolve", path });
  }

  /** A single-valued property (the first atom; a text property split into atoms is joined back). */
  async get(path, name) {
    const atoms = await this.request({ op: "get", path, name });
    if (!Array.isArray(atoms) || atoms.length === 0) return undefined;
    return atoms.length === 1 || typeof atoms[0] !== "string" ? atoms[0] : atoms.join(" ");
  }

  set(path, name, value) {
    return this.request({ op: "set", path, name, value });
  }

  count(path, name) {
    return this.request({ op: "getcount", path, name });
  }

  info(path) {
    return this.request({ op: "info", path });
  }

  call(path, name, ...args) {
    return this.request({ op: "call", path, name, args });
  }
}

module.exports = { Live, LiveError };
