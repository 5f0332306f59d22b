#!/usr/bin/env node
"use strict";
/**
 * Builds ddbridge.amxd (the Max for Live device file) from ddbridge.maxpat.
 *
 * The .amxd container, all lengths little-endian u32:
 *   "ampf" <4> <device type: "aaaa" audio effect | "mmmm" MIDI effect | "iiii" instrument>
 *   "meta" <4> <u32 meta value>
 *   "ptch" <n> <patcher JSON, NUL-terminated: n bytes>
 * The embedded patcher is the source plus the fields Max writes for a device (deviceFields).
 *
 * Usage: node build_amxd.js [source.maxpat [out.amxd]]   (defaults: the files next to this script)
 */

const fs = require("fs");
const path = require("path");

const DEVICE_TYPES = { audio: "aaaa", midi: "mmmm", instrument: "iiii" };
const META_VALUE = 1;
// Where the README installs the device; Max finds dependencies by name in the device's folder anyway.
const INSTALL_FOLDER = "~/Music/Ableton/User Library/Presets/Audio Effects/Max Audio Effect/ddbridge";

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function chunk(tag, payload) {
  return Buffer.concat([Buffer.from(tag, "ascii"), u32(payload.length), payload]);
}

/** `type` ("aaaa") as the big-endian integer Max stores in the project's `amxdtype`. */
function amxdType(type) {
  return Buffer.from(type, "ascii").readUInt32BE(0);
}

/** Every box of a patcher and of the patchers inside it. */
function allBoxes(patcher) {
  return patcher.boxes.flatMap(({ box }) => [box, ...(box.patcher ? allBoxes(box.patcher) : [])]);
}

/** The files the patcher's [js] and [node.script] objects load, as Max lists them in `dependency_cache`. */
function dependencies(patcher) {
  const names = allBoxes(patcher)
    .filter((b) => b.maxclass === "newobj" && /^(js|node\.script) /.test(b.text || ""))
    .map((b) => b.text.split(/\s+/)[1]);
  return [...new Set(names)].sort().map((name) => ({ name, bootpath: INSTALL_FOLDER, type: "TEXT", implicit: 1 }));
}

/** The `parameters` table Max writes: box id -> [long name, short name, 0]. */
function parameters(patcher) {
  const table = {};
  for (const box of allBoxes(patcher)) {
    const enabled = box.parameter_enable === 1 || (box.saved_object_attributes || {}).parameter_enable === 1;
    const valueof = ((box.saved_attribute_attributes || {}).valueof || {});
    if (enabled) table[box.id] = [valueof.parameter_longname, valueof.parameter_shortname, 0];
  }
  return { ...table, inherited_shortname: 1 };
}

/**
 * The top-level patcher fields Max writes into a device that a hand-written .maxpat lacks
 * (as in Ableton's own devices): the parameter table, the dependency cache, latency, minimum
 * versions and the `project` record naming the device type.
 */
function deviceFields(patcher, type) {
  return {
    parameters: parameters(patcher),
    dependency_cache: dependencies(patcher),
    latency: 0,
    is_mpe: 0,
    minimum_live_version: "",
    minimum_max_version: "",
    platform_compatibility: 0,
    project: {
      version: 1,
      creationdate: 3590052493,
      modificationdate: 3590052493,
      viewrect: [0.0, 0.0, 300.0, 500.0],
      autoorganize: 1,
      hideprojectwindow: 1,
      showdependencies: 1,
      autolocalize: 0,
      contents: { patchers: {} },
      layout: {},
      searchpath: {},
      detailsvisible: 0,
      amxdtype: amxdType(type),
      readonly: 0,
      devpathtype: 0,
      devpath: ".",
      sortmode: 0,
      viewmode: 0,
      includepackages: 0,
    },
    autosave: 0,
  };
}

/** The patcher JSON embedded in the device: the source with the fields Max writes for a device. */
function devicePatcher(patcherBytes, type = DEVICE_TYPES.audio) {
  const document = JSON.parse(patcherBytes.toString("utf8"));
  if (!document || typeof document.patcher !== "object") throw new Error("not a Max patcher: no top-level 'patcher'");
  document.patcher = { ...document.patcher, ...deviceFields(document.patcher, type) };
  return Buffer.from(`${JSON.stringify(document, null, 2)}\n`, "utf8");
}

/** The .amxd bytes for a patcher's JSON text (Buffer). */
function buildAmxd(patcherBytes, type = DEVICE_TYPES.audio) {
  return Buffer.concat([
    chunk("ampf", Buffer.from(type, "ascii")),
    chunk("meta", u32(META_VALUE)),
    chunk("ptch", Buffer.concat([devicePatcher(patcherBytes, type), Buffer.from([0])])),
  ]);
}

function main(argv) {
  const source = argv[0] || path.join(__dirname, "ddbridge.maxpat");
  const out = argv[1] || path.join(path.dirname(source), `${path.basename(source, ".maxpat")}.amxd`);
  fs.writeFileSync(out, buildAmxd(fs.readFileSync(source)));
  process.stdout.write(`wrote ${out}\n`);
}

if (require.main === module) main(process.argv.slice(2));

module.exports = { buildAmxd, devicePatcher, amxdType, DEVICE_TYPES, main };
