#!/usr/bin/env node
"use strict";
/**
 * Builds ddbridge.amxd (the Max for Live device file) from ddbridge.maxpat.
 *
 * The .amxd container, all lengths little-endian u32:
 *   "ampf" <4> <device type: "aaaa" audio effect | "mmmm" MIDI effect | "iiii" instrument>
 *   "meta" <4> <u32 meta value>
 *   "ptch" <n> <patcher JSON, NUL-terminated: n bytes>
 *
 * Usage: node build_amxd.js [source.maxpat [out.amxd]]   (defaults: the files next to this script)
 */

const fs = require("fs");
const path = require("path");

const DEVICE_TYPES = { audio: "aaaa", midi: "mmmm", instrument: "iiii" };
const META_VALUE = 1;

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function chunk(tag, payload) {
  return Buffer.concat([Buffer.from(tag, "ascii"), u32(payload.length), payload]);
}

/** The .amxd bytes for a patcher's JSON text (Buffer); checks that it parses as a patcher first. */
function buildAmxd(patcherBytes, type = DEVICE_TYPES.audio) {
  const patcher = JSON.parse(patcherBytes.toString("utf8"));
  if (!patcher || typeof patcher.patcher !== "object") throw new Error("not a Max patcher: no top-level 'patcher'");
  return Buffer.concat([
    chunk("ampf", Buffer.from(type, "ascii")),
    chunk("meta", u32(META_VALUE)),
    chunk("ptch", Buffer.concat([patcherBytes, Buffer.from([0])])),
  ]);
}

function main(argv) {
  const source = argv[0] || path.join(__dirname, "ddbridge.maxpat");
  const out = argv[1] || path.join(path.dirname(source), `${path.basename(source, ".maxpat")}.amxd`);
  fs.writeFileSync(out, buildAmxd(fs.readFileSync(source)));
  process.stdout.write(`wrote ${out}\n`);
}

if (require.main === module) main(process.argv.slice(2));

module.exports = { buildAmxd };
