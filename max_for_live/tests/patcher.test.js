"use strict";
/** The patcher (ddbridge.maxpat) and the device file built from it (ddbridge.amxd). */
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
const { M4L } = require("./harness");
const { Device, CATEGORIES, TARGETS, UNITS, LOOP_BARS, GENRES } = require("../device");
const { buildAmxd, devicePatcher, amxdType } = require("../build_amxd");
const { bundleText, BUNDLE } = require("../build");

const SOURCE = path.join(M4L, "ddbridge.maxpat");
const AMXD = path.join(M4L, "ddbridge.amxd");
const DEVICE_HEIGHT = 169; // Live shows this many pixels of a device's presentation

// [inlets, outlets] of each object class the patcher uses; `args` are the object box's arguments.
const OBJECTS = {
  "node.script": () => [1, 2],
  js: () => [1, 1],
  route: (args) => [2, args.length + 1],
  prepend: () => [2, 1],
  t: (args) => [1, args.length],
  opendialog: () => [1, 2],
  conformpath: () => [1, 2],
  pattr: () => [1, 3],
  "dspstate~": () => [1, 4],
  "sfplay~": (args) => [2, Number(args[0] || 1) + 1],
  "plugin~": () => [2, 2],
  "plugout~": () => [2, 2], // as Max saves it (Ableton's CPU Reporter device: 2 signal outlets)
  "+~": () => [2, 1],
  print: () => [1, 0],
};
const UI = {
  "live.menu": [1, 3],
  "live.text": [1, 2],
  "live.numbox": [1, 2],
  "live.dial": [1, 2],
  "live.tab": [1, 3],
  "live.drop": [1, 2],
  "live.comment": [1, 0],
  comment: [1, 0],
  message: [2, 1],
  slider: [1, 1],
  textedit: [1, 4], // as Max saves it: text, key, and two more outlets
};

const sourceBytes = fs.readFileSync(SOURCE);
const patcher = JSON.parse(sourceBytes.toString("utf8")).patcher;
const boxes = patcher.boxes.map((b) => b.box);
const byId = new Map(boxes.map((b) => [b.id, b]));
const cords = patcher.lines.map((l) => l.patchline);

const words = (box) => (box.text || "").split(/\s+/).filter(Boolean);
const objectClass = (box) => (box.maxclass === "newobj" ? words(box)[0] : box.maxclass);
const byVarname = (name) => {
  const box = boxes.find((b) => b.varname === name);
  assert.ok(box, `no box named '${name}'`);
  return box;
};
const findObject = (text) => {
  const box = boxes.find((b) => b.maxclass === "newobj" && b.text === text);
  assert.ok(box, `no [${text}] object`);
  return box;
};
const from = (id, outlet = 0) =>
  cords.filter((c) => c.source[0] === id && c.source[1] === outlet).map((c) => byId.get(c.destination[0]));
const parameterEnabled = (b) => b.parameter_enable === 1 || (b.saved_object_attributes || {}).parameter_enable === 1;
const params = () => boxes.filter(parameterEnabled);
const isButton = (box) => box.maxclass === "live.text" && box.mode === 0;
const nodeScript = () => findObject("node.script ddbridge_node_bundle.js @autostart 1");

/** The selector of messages leaving `box`, given the selector of those entering it. */
function selectorAfter(box, selector) {
  if (box.maxclass === "message") return words(box)[0];
  if (objectClass(box) === "prepend") return words(box)[1];
  if (box.text === "js ddbridge_lom.js") return "lom_result"; // it answers each request so
  return selector;
}

/** Selectors that messages leaving `id`'s outlet carry when they reach the node.script. */
function selectorsIntoNode(id, outlet = 0, selector = selectorAfter(byId.get(id), null), seen = new Set()) {
  const found = new Set();
  for (const c of cords.filter((x) => x.source[0] === id && x.source[1] === outlet)) {
    const dest = byId.get(c.destination[0]);
    if (dest === nodeScript()) {
      found.add(selector);
      continue;
    }
    if (seen.has(dest.id)) continue;
    seen.add(dest.id);
    const next = selectorAfter(dest, selector);
    for (let o = 0; o < dest.numoutlets; o += 1) {
      for (const s of selectorsIntoNode(dest.id, o, next, seen)) found.add(s);
    }
  }
  return found;
}

/** Selectors the script sends out of its outlet (read from device.js). */
function emittedSelectors() {
  const source = fs.readFileSync(path.join(M4L, "device.js"), "utf8");
  return new Set([...source.matchAll(/this\.outlet\("(\w+)"/g)].map((m) => m[1]));
}

test("every box is well-formed and ids are unique", () => {
  assert.equal(new Set(boxes.map((b) => b.id)).size, boxes.length, "duplicate box ids");
  for (const box of boxes) {
    const where = `${box.id} (${box.maxclass} ${box.text || ""})`;
    assert.ok(Number.isInteger(box.numinlets) && box.numinlets >= 0, where);
    assert.ok(Number.isInteger(box.numoutlets) && box.numoutlets >= 0, where);
    if (box.numoutlets > 0) assert.equal(box.outlettype.length, box.numoutlets, `${where}: outlettype`);
    assert.equal(box.patching_rect.length, 4, where);
    assert.ok(box.patching_rect.every(Number.isFinite), where);
    const cls = objectClass(box);
    const expected = box.maxclass === "newobj" ? OBJECTS[cls] && OBJECTS[cls](words(box).slice(1)) : UI[cls];
    assert.ok(expected, `${where}: unknown object class '${cls}'`);
    assert.deepEqual([box.numinlets, box.numoutlets], expected, `${where}: inlets/outlets`);
  }
});

test("every patch cord joins an existing outlet to an existing inlet", () => {
  assert.ok(cords.length > 0);
  const seen = new Set();
  for (const { source, destination } of cords) {
    const key = JSON.stringify([source, destination]);
    assert.ok(!seen.has(key), `duplicate cord ${key}`);
    seen.add(key);
    const [src, dst] = [byId.get(source[0]), byId.get(destination[0])];
    assert.ok(src && dst, `cord ${key} names a missing box`);
    assert.ok(Number.isInteger(source[1]) && source[1] >= 0 && source[1] < src.numoutlets, `cord ${key}: outlet`);
    const inlet = destination[1];
    assert.ok(Number.isInteger(inlet) && inlet >= 0 && inlet < dst.numinlets, `cord ${key}: inlet`);
  }
});

test("the device's controls are all there, matching the script's choices", () => {
  const enumOf = (name) => byVarname(name).saved_attribute_attributes.valueof.parameter_enum;
  assert.equal(byVarname("category").maxclass, "live.menu");
  assert.deepEqual(enumOf("category"), CATEGORIES);
  assert.deepEqual(enumOf("target").map((s) => s.toLowerCase()), TARGETS);
  assert.deepEqual(enumOf("unit").map((s) => (s === "sec" ? "seconds" : s)), UNITS);
  for (const name of ["generate", "variate", "cancel", "choose_folder", "generate_loop"]) {
    assert.ok(isButton(byVarname(name)), name);
  }
  assert.equal(byVarname("generate").text, "Generate");
  assert.equal(byVarname("generate_loop").text, "Generate loop");
  assert.deepEqual(enumOf("loop_bars").map(Number), LOOP_BARS);
  assert.equal(byVarname("loop_bars").maxclass, "live.tab");
  assert.deepEqual(enumOf("genre"), GENRES);
  assert.equal(byVarname("genre").maxclass, "live.menu");
  for (const name of ["loop_bars", "genre"]) {
    assert.equal(byVarname(name).saved_attribute_attributes.valueof.parameter_initial[0], 0, `${name}: 1 bar, any genre`);
  }
  assert.equal(byVarname("variate").text, "Variate current sample");
  for (const name of ["count", "length", "pad", "port"]) assert.equal(byVarname(name).maxclass, "live.numbox", name);
  assert.equal(byVarname("strength").maxclass, "live.dial");
  assert.equal(byVarname("drop").maxclass, "live.drop");
  assert.equal(byVarname("status").maxclass, "message");
  assert.equal(byVarname("progress").maxclass, "slider");
  const range = (name) => {
    const v = byVarname(name).saved_attribute_attributes.valueof;
    return [v.parameter_mmin, v.parameter_mmax, v.parameter_initial[0]];
  };
  assert.deepEqual(range("count"), [1, 16, 1]);
  assert.deepEqual(range("pad"), [0, 127, 36]);
  assert.deepEqual(range("port"), [1024, 65535, 9000]);
});

test("Live parameters are valid: unique names, int ranges within 0..255, the folder stored as a blob", () => {
  const names = params().map((b) => b.saved_attribute_attributes.valueof.parameter_longname);
  assert.equal(new Set(names).size, names.length, `duplicate parameter names: ${names}`);
  for (const box of params()) {
    const v = box.saved_attribute_attributes.valueof;
    if (v.parameter_type === 1) assert.ok(v.parameter_mmin >= 0 && v.parameter_mmax <= 255, v.parameter_longname);
  }
  const folder = byVarname("project_folder");
  // a pattr is a Live parameter only with @parameter_enable 1 in its text and saved attributes, as Max saves it
  assert.equal(folder.text, "pattr project_folder @parameter_enable 1");
  assert.deepEqual(folder.saved_object_attributes, { parameter_enable: 1, parameter_mappable: 0 });
  assert.equal(folder.saved_attribute_attributes.valueof.parameter_type, 3, "blob: any data, saved with the Live Set");
  assert.equal(folder.saved_attribute_attributes.valueof.parameter_invisible, 1, "stored only, not automatable");
});

test("the remote endpoint and the ddbridge command are typed in the device and stored with it", () => {
  for (const [field, name, ...selectors] of [
    ["remote_endpoint_text", "remote_endpoint", "daemon"],
    ["ddbridge_command_text", "ddbridge_command", "ddbridge_command"],
  ]) {
    const text = byVarname(field);
    assert.equal(text.maxclass, "textedit");
    assert.deepEqual([text.numinlets, text.numoutlets, text.outlettype], [1, 4, ["", "int", "", ""]], field);
    assert.equal(text.keymode, 1, `${field}: Return sends the text`);
    assert.equal(text.lines, 1, `${field}: one line`);
    // stored as the project folder is: a pattr that is a hidden Live parameter holding any data
    const stored = byVarname(name);
    assert.deepEqual(from(text.id), [stored], `${field} is stored by [pattr ${name}]`);
    assert.equal(stored.text, `pattr ${name} @parameter_enable 1`);
    assert.deepEqual(stored.saved_object_attributes, { parameter_enable: 1, parameter_mappable: 0 });
    assert.deepEqual([stored.numinlets, stored.numoutlets, stored.outlettype], [1, 3, ["", "", ""]]);
    const valueof = stored.saved_attribute_attributes.valueof;
    assert.equal(valueof.parameter_type, 3, name);
    assert.equal(valueof.parameter_invisible, 1, name);
    // textedit sends "text <value>" ("text" alone when empty): the value goes on, empty goes another way
    const [routeText] = from(stored.id);
    assert.equal(routeText.text, "route text");
    const [routeBang] = from(routeText.id);
    assert.equal(routeBang.text, "route bang");
    const [value, shown] = from(routeBang.id, 1);
    assert.equal(value.text, `prepend ${selectors[0]}`);
    assert.deepEqual(from(value.id), [nodeScript()]);
    assert.equal(shown.text, "prepend set", "a restored value is shown in the field");
    assert.deepEqual(from(shown.id), [text]);
  }
  // empty endpoint: the Port box sends its port (back to the local daemon over OSC)
  const [port] = from(from(from(byVarname("remote_endpoint").id)[0].id)[0].id, 0);
  assert.equal(port, byVarname("port"));
  // empty command: `ddbridge_command` without a path (back to DDBRIDGE_COMMAND or PATH)
  const [clear] = from(from(from(byVarname("ddbridge_command").id)[0].id)[0].id, 0);
  assert.deepEqual([clear.maxclass, clear.text], ["message", "ddbridge_command"]);
  assert.deepEqual(from(clear.id), [nodeScript()]);
});

test("action buttons are hidden parameters: not automatable, not stored, no undo step per click", () => {
  // parameter_invisible: 0 automated and stored, 1 stored only, 2 hidden (Ableton's CPU Reporter buttons)
  for (const name of ["generate", "variate", "cancel", "choose_folder", "generate_loop"]) {
    assert.equal(byVarname(name).saved_attribute_attributes.valueof.parameter_invisible, 2, name);
  }
  for (const box of params().filter((b) => !isButton(b))) {
    assert.notEqual(box.saved_attribute_attributes.valueof.parameter_invisible, 2, `${box.varname} is a setting`);
  }
});

test("each control reaches the node.script with a message the script handles", () => {
  const handlers = Object.keys(new Device({ outlet() {}, post() {} }).handlers());
  const expected = {
    category: "category",
    generate: "generate",
    count: "count",
    length: "length",
    unit: "unit",
    strength: "strength",
    variate: "variate",
    cancel: "cancel",
    target: "target",
    pad: "pad",
    port: "daemon",
    choose_folder: "folder",
    drop: "source",
    remote_endpoint_text: "daemon",
    ddbridge_command_text: "ddbridge_command",
    generate_loop: "generate_loop",
    loop_bars: "bars",
    genre: "genre",
  };
  for (const [control, selector] of Object.entries(expected)) {
    assert.deepEqual([...selectorsIntoNode(byVarname(control).id)].sort(), [selector], control);
    assert.ok(handlers.includes(selector), `the script has no '${selector}' handler`);
  }
  assert.deepEqual([...selectorsIntoNode(findObject("dspstate~").id, 1)], ["samplerate"]);
  const jsBox = findObject("js ddbridge_lom.js");
  assert.deepEqual(from(jsBox.id), [nodeScript()], "[js] answers go into the node.script");
  assert.match(fs.readFileSync(path.join(M4L, "ddbridge_lom.js"), "utf8"), /outlet\(0, "lom_result"/);
  assert.ok(handlers.includes("lom_result"));
  const outlets = (b) => [...Array(b.numoutlets).keys()];
  const reaching = new Set(boxes.flatMap((b) => outlets(b).flatMap((o) => [...selectorsIntoNode(b.id, o)])));
  assert.deepEqual([...reaching].sort(), [...handlers].sort(), "every message into the script is handled and used");
});

test("the script's output is routed to the status line, progress bar, [js], player and controls", () => {
  const [route] = from(nodeScript().id, 0);
  assert.equal(objectClass(route), "route");
  const selectors = words(route).slice(1);
  assert.deepEqual(new Set(selectors), emittedSelectors());
  const via = (selector) => from(route.id, selectors.indexOf(selector));
  const [setStatus] = via("status");
  assert.equal(setStatus.text, "prepend set");
  assert.deepEqual(from(setStatus.id), [byVarname("status")]);
  const [setProgress] = via("progress");
  assert.deepEqual(from(setProgress.id), [byVarname("progress")]);
  const [request] = via("lom");
  assert.equal(request.text, "prepend request");
  assert.deepEqual(from(request.id), [findObject("js ddbridge_lom.js")]);
  assert.deepEqual(via("player").map(objectClass), ["sfplay~"]);
  const [activate] = via("loops"); // `loops 1|0`: the loop controls are active only with a loop network
  assert.equal(activate.text, "prepend active");
  assert.deepEqual(from(activate.id).map((b) => b.varname).sort(), ["genre", "loop_bars"]);
  const [trigger] = via("ready");
  const fired = [...Array(trigger.numoutlets).keys()].reverse().map((o) => from(trigger.id, o)); // right to left
  const refreshed = new Set(fired.flat().map((b) => b.varname || objectClass(b)));
  const names = (group) => group.map((b) => b.varname);
  assert.deepEqual(fired.slice(-2).map(names), [["ddbridge_command"], ["remote_endpoint"]], "then the command, the endpoint last");
  const controls = params().filter((b) => !isButton(b)).map((b) => b.varname);
  const settings = [...controls, "dspstate~"].sort();
  assert.deepEqual([...refreshed].sort(), settings, "'ready' re-sends every setting and presses no button");
});

test("the track's audio passes through, with the device's player mixed in", () => {
  const plugin = findObject("plugin~");
  const player = findObject("sfplay~ 2");
  const plugout = findObject("plugout~");
  for (const channel of [0, 1]) {
    const [mix] = from(plugin.id, channel);
    assert.equal(mix.text, "+~");
    assert.deepEqual(from(player.id, channel), [mix]);
    assert.deepEqual(from(mix.id), [plugout]);
    const intoChannel = (c) => c.source[0] === mix.id && c.destination[0] === plugout.id;
    assert.deepEqual(cords.filter(intoChannel).map((c) => c.destination[1]), [channel]);
  }
});

test("the presentation fits the device and the scripts it names exist", () => {
  assert.equal(patcher.openinpresentation, 1);
  for (const box of boxes.filter((b) => b.maxclass in UI && b.varname)) {
    assert.equal(box.presentation, 1, `${box.id} ${box.maxclass} is not in the device view`);
    const [, y, , h] = box.presentation_rect;
    assert.ok(y >= 0 && y + h <= DEVICE_HEIGHT, `${box.id} sticks out of the device`);
  }
  const shown = boxes.filter((b) => b.presentation === 1);
  for (const [i, a] of shown.entries()) {
    for (const b of shown.slice(i + 1)) {
      const [ax, ay, aw, ah] = a.presentation_rect;
      const [bx, by, bw, bh] = b.presentation_rect;
      const apart = ax + aw <= bx || bx + bw <= ax || ay + ah <= by || by + bh <= ay;
      assert.ok(apart, `${a.varname || a.text} overlaps ${b.varname || b.text} in the device view`);
    }
  }
  assert.equal(nodeScript().saved_object_attributes.autostart, 1);
  for (const file of ["ddbridge_node_bundle.js", "ddbridge_lom.js"]) assert.ok(fs.existsSync(path.join(M4L, file)), file);
});

test("the Node side is one bundled file, up to date with its sources", () => {
  assert.equal(fs.readFileSync(BUNDLE, "utf8"), bundleText(), "stale: run `node max_for_live/build.js`");
  assert.doesNotMatch(fs.readFileSync(BUNDLE, "utf8"), /require\("\.\//, "the bundle must not load modules beside it");
});

/** {type, meta, patcher} read from .amxd bytes, checking every length on the way. */
function readAmxd(bytes) {
  assert.equal(bytes.toString("ascii", 0, 4), "ampf");
  assert.equal(bytes.readUInt32LE(4), 4);
  const type = bytes.toString("ascii", 8, 12);
  assert.equal(bytes.toString("ascii", 12, 16), "meta");
  assert.equal(bytes.readUInt32LE(16), 4);
  const meta = bytes.readUInt32LE(20);
  assert.equal(bytes.toString("ascii", 24, 28), "ptch");
  const size = bytes.readUInt32LE(28);
  assert.equal(bytes.length, 32 + size, "the ptch chunk runs to the end of the file");
  assert.equal(bytes[bytes.length - 1], 0, "the patcher is NUL-terminated");
  return { type, meta, patcher: bytes.subarray(32, bytes.length - 1) };
}

// Facts read from Ableton's own Max-saved devices (github.com/Ableton/maxdevtools: "CPU Reporter.amxd",
// an audio effect saved by Max 8.6, and maxdiff/tests/test_files/Test.amxd, a MIDI effect saved by Max 9):
// the top-level patcher fields both carry and the fields of their `project` record.
const MAX_DEVICE_FIELDS = [
  "parameters", "dependency_cache", "latency", "is_mpe", "minimum_live_version", "minimum_max_version",
  "platform_compatibility", "project", "autosave",
];
const MAX_PROJECT_FIELDS = [
  "version", "creationdate", "modificationdate", "viewrect", "autoorganize", "hideprojectwindow",
  "showdependencies", "autolocalize", "contents", "layout", "searchpath", "detailsvisible", "amxdtype",
  "readonly", "devpathtype", "devpath", "sortmode", "viewmode", "includepackages",
];
const AMXDTYPE = { aaaa: 1633771873, mmmm: 1835887981 }; // CPU Reporter (aaaa), Test (mmmm)

test("the built .amxd is an audio effect carrying what Max writes into a device", () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ddbridge-amxd-")), "device.amxd");
  execFileSync(process.execPath, [path.join(M4L, "build_amxd.js"), SOURCE, out]);
  const built = fs.readFileSync(out);
  const { type, meta, patcher: embedded } = readAmxd(built);
  assert.equal(type, "aaaa");
  assert.equal(meta, 1);
  assert.ok(embedded.equals(devicePatcher(sourceBytes)));
  const device = JSON.parse(embedded.toString("utf8")).patcher;
  const { boxes: _b, lines: _l, ...rest } = device;
  const { boxes: _sb, lines: _sl, ...sourceRest } = patcher;
  assert.deepEqual(device.boxes, patcher.boxes);
  assert.deepEqual(device.lines, patcher.lines);
  assert.deepEqual(Object.keys(rest).filter((k) => !(k in sourceRest)).sort(), [...MAX_DEVICE_FIELDS].sort());
  assert.deepEqual(Object.keys(device.project).sort(), [...MAX_PROJECT_FIELDS].sort());
  for (const [code, value] of Object.entries(AMXDTYPE)) assert.equal(amxdType(code), value);
  assert.equal(device.project.amxdtype, amxdType(type));
  assert.deepEqual(
    device.dependency_cache.map((d) => [d.name, d.type, d.implicit]),
    [["ddbridge_lom.js", "TEXT", 1], ["ddbridge_node_bundle.js", "TEXT", 1]],
    "every file the device loads is a dependency Max freezes into it",
  );
  const names = Object.values(device.parameters).filter(Array.isArray).map((p) => p[0]);
  assert.deepEqual(names.sort(), params().map((b) => b.saved_attribute_attributes.valueof.parameter_longname).sort());
  assert.ok(built.equals(buildAmxd(sourceBytes)));
  assert.ok(fs.readFileSync(AMXD).equals(built), "ddbridge.amxd is stale: run node max_for_live/build.js");
  assert.throws(() => buildAmxd(Buffer.from('{"boxes": []}')), /not a Max patcher/);
});
