"use strict";
/** Reads a WAV file's RIFF structure and checks that it is a playable PCM/float WAV. */

const fs = require("fs");

const FORMATS = { 1: "pcm", 3: "float", 0xfffe: "extensible" };

/**
 * {format, channels, sampleRate, bitsPerSample, frames, chunks} of the WAV at `file`;
 * throws saying what is wrong when it is not a valid WAV.
 */
function readWav(file) {
  const buf = fs.readFileSync(file);
  const fail = (why) => {
    throw new Error(`${file}: ${why}`);
  };
  if (buf.length < 12 || buf.toString("ascii", 0, 4) !== "RIFF") fail("no RIFF header");
  if (buf.toString("ascii", 8, 12) !== "WAVE") fail("RIFF form is not WAVE");
  const riffSize = buf.readUInt32LE(4);
  if (riffSize !== buf.length - 8) fail(`RIFF size ${riffSize} != file size - 8 (${buf.length - 8})`);
  const chunks = [];
  let fmt = null;
  let dataSize = null;
  for (let pos = 12; pos < buf.length; ) {
    if (pos + 8 > buf.length) fail(`truncated chunk header at ${pos}`);
    const id = buf.toString("ascii", pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    if (pos + 8 + size > buf.length) fail(`chunk '${id}' runs past the end of the file`);
    chunks.push(id);
    if (id === "fmt ") {
      if (size < 16) fail("fmt chunk too short");
      fmt = {
        code: buf.readUInt16LE(pos + 8),
        channels: buf.readUInt16LE(pos + 10),
        sampleRate: buf.readUInt32LE(pos + 12),
        byteRate: buf.readUInt32LE(pos + 16),
        blockAlign: buf.readUInt16LE(pos + 20),
        bitsPerSample: buf.readUInt16LE(pos + 22),
      };
    } else if (id === "data") {
      if (!fmt) fail("data chunk before fmt chunk");
      dataSize = size;
    }
    pos += 8 + size + (size % 2); // chunks are word-aligned
  }
  if (!fmt) fail("no fmt chunk");
  if (dataSize === null) fail("no data chunk");
  if (!FORMATS[fmt.code]) fail(`unknown format code ${fmt.code}`);
  if (fmt.channels < 1) fail("no channels");
  if (fmt.blockAlign !== (fmt.channels * fmt.bitsPerSample) / 8) fail("block align does not match channels and bits");
  if (fmt.byteRate !== fmt.sampleRate * fmt.blockAlign) fail("byte rate does not match sample rate and block align");
  if (dataSize === 0 || dataSize % fmt.blockAlign !== 0) fail(`data size ${dataSize} is not a whole number of frames`);
  return {
    format: FORMATS[fmt.code],
    channels: fmt.channels,
    sampleRate: fmt.sampleRate,
    bitsPerSample: fmt.bitsPerSample,
    frames: dataSize / fmt.blockAlign,
    chunks,
  };
}

module.exports = { readWav };
