"use strict";
/** Reads a WAV file's RIFF structure and checks that it is a playable PCM/float WAV. */

const fs = require("fs");

const FORMATS = { 1: "pcm", 3: "float", 0xfffe: "extensible" };

/**
 * {format, channels, sampleRate, bitsPerSample, frames, chunks, acid, smpl} of the WAV at `file`;
 * throws saying what is wrong when it is not a valid WAV. `acid` ({flags, rootNote, beats, numerator,
 * denominator, tempo}) and `smpl` ({unityNote, loops: [{type, start, end}]}) are read from the chunk
 * layouts (24 and 36 + 24 x loops bytes, little-endian) when the file has them, else null.
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
  let acid = null;
  let smpl = null;
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
    } else if (id === "acid") {
      if (size < 24) fail("acid chunk too short");
      const at = pos + 8;
      acid = {
        flags: buf.readUInt32LE(at),
        rootNote: buf.readUInt16LE(at + 4),
        beats: buf.readUInt32LE(at + 12),
        denominator: buf.readUInt16LE(at + 16),
        numerator: buf.readUInt16LE(at + 18),
        tempo: buf.readFloatLE(at + 20),
      };
    } else if (id === "smpl") {
      if (size < 36) fail("smpl chunk too short");
      const at = pos + 8;
      const count = buf.readUInt32LE(at + 28);
      if (size < 36 + 24 * count) fail("smpl chunk shorter than its loops");
      const loops = [];
      for (let i = 0; i < count; i += 1) {
        const loop = at + 36 + 24 * i;
        loops.push({ type: buf.readUInt32LE(loop + 4), start: buf.readUInt32LE(loop + 8), end: buf.readUInt32LE(loop + 12) });
      }
      smpl = { unityNote: buf.readUInt32LE(at + 12), loops };
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
    acid,
    smpl,
  };
}

/** Write a 16-bit PCM WAV of `frames` frames (a quiet ramp) at `sampleRate`, `channels` channels, to `file`. */
function writeWav(file, { frames, sampleRate, channels = 2 }) {
  const data = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames * channels; i += 1) data.writeInt16LE(i % 2000, i * 2);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVEfmt ", 8, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(data.length, 40);
  fs.writeFileSync(file, Buffer.concat([header, data]));
  return file;
}

module.exports = { readWav, writeWav };
