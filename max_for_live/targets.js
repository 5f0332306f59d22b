"use strict";
/**
 * Where a finished sound goes in Live: the Simpler on this device's track, or the Simpler on a
 * chosen Drum Rack pad; a loop goes into the clip slot selected in Session View (loadLoopClip).
 * Loading uses SimplerDevice.replace_sample, which Live offers from 12.4 on:
 * it is probed for in the Simpler's info before the call, and the caller falls back when it is
 * missing. An empty pad gets a chain and a Simpler first where the rack offers insert_chain and the
 * chain insert_device (Live 12.3+ LOM), and the chain's in_note is set to the pad's note.
 */

const path = require("path");

const SIMPLER = "OriginalSimpler";
const REPLACE_SAMPLE_SINCE = [12, 4];
const LOAD_CHECKS = [0, 150, 400]; // ms to wait before each look at what the Simpler holds
const DRUM_RACK = "DrumGroupDevice";
const NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

/** Why a sound could not be loaded; `message` is shown in the device. */
class Unloadable extends Error {
  constructor(reason, message) {
    super(message);
    this.name = "Unloadable";
    this.reason = reason;
  }
}

/** Live's name for MIDI note `note` (36 -> "C1"). */
function noteName(note) {
  return `${NOTE_NAMES[note % 12]}${Math.floor(note / 12) - 2}`;
}

/** The track part of a canonical device path ("live_set tracks 2 devices 0 chains 1 ..." -> "live_set tracks 2"). */
function trackOf(devicePath) {
  const match = /^live_set (?:(?:tracks|return_tracks) \d+|master_track)/.exec(devicePath);
  if (!match) throw new Unloadable("no_track", `This device is not on a track (${devicePath})`);
  return match[0];
}

/** The track this device sits on. */
async function thisTrack(live) {
  const me = await live.resolve("this_device");
  return trackOf(me.path);
}

/** The path of the first device in `chainPath`'s devices whose class_name is `className`, or null. */
async function findDevice(live, chainPath, className) {
  const n = await live.count(chainPath, "devices");
  for (let i = 0; i < n; i += 1) {
    const devicePath = `${chainPath} devices ${i}`;
    if ((await live.get(devicePath, "class_name")) === className) return devicePath;
  }
  return null;
}

/** Live's version as [major, minor, bugfix] (Application properties of live_app). */
async function liveVersion(live) {
  const parts = await Promise.all(["major_version", "minor_version", "bugfix_version"].map((n) => live.get("live_app", n)));
  return parts.map(Number);
}

function atLeast(version, wanted) {
  return version[0] > wanted[0] || (version[0] === wanted[0] && version[1] >= wanted[1]);
}

/** What this Live lets the device do with a file, in words for the status line. */
async function capabilities(live) {
  const version = await liveVersion(live);
  const name = `Live ${version.join(".")}`;
  if (atLeast(version, REPLACE_SAMPLE_SINCE)) return { version, load: true, text: `${name}: loads into Simpler` };
  return { version, load: false, text: `${name}: plays results here (loading into Simpler needs Live 12.4+)` };
}

/** Whether the LOM object at `objectPath` has function `name` (read from its info). */
async function hasFunction(live, objectPath, name) {
  return new RegExp(`^function ${name}\\b`, "m").test(await live.info(objectPath));
}

/** A Simpler on the empty pad `note` of the Drum Rack at `rack` (a new chain on that note), or Unloadable. */
async function fillPad(live, rack, note) {
  const empty = `Pad ${noteName(note)} is empty`;
  if (!atLeast(await liveVersion(live), REPLACE_SAMPLE_SINCE) || !(await hasFunction(live, rack, "insert_chain"))) {
    throw new Unloadable("empty_pad", `${empty}: drop any sample on it once`);
  }
  await live.call(rack, "insert_chain");
  const chain = `${rack} chains ${(await live.count(rack, "chains")) - 1}`;
  if (!(await hasFunction(live, chain, "insert_device"))) {
    throw new Unloadable("empty_pad", `${empty}: drop any sample on it once`);
  }
  await live.set(chain, "in_note", note);
  await live.call(chain, "insert_device", "Simpler");
  const simpler = await findDevice(live, `${rack} drum_pads ${note} chains 0`, SIMPLER);
  if (!simpler) throw new Unloadable("empty_pad", `${empty}: Live did not put a Simpler on it`);
  return simpler;
}

/** The Simpler a target names: {kind: "simpler"} (this track) or {kind: "pad", note}; `fill` fills an empty pad. */
async function findSimpler(live, target, { fill = false } = {}) {
  const track = await thisTrack(live);
  if (target.kind === "simpler") {
    const simpler = await findDevice(live, track, SIMPLER);
    if (!simpler) throw new Unloadable("no_simpler", "No Simpler on this track: add one, or pick the Folder target");
    return simpler;
  }
  const rack = await findDevice(live, track, DRUM_RACK);
  if (!rack) throw new Unloadable("no_drum_rack", "No Drum Rack on this track: add one, or pick another target");
  const pad = `${rack} drum_pads ${target.note}`;
  if ((await live.count(pad, "chains")) === 0) {
    if (fill) return fillPad(live, rack, target.note);
    throw new Unloadable("empty_pad", `Pad ${noteName(target.note)} is empty`);
  }
  const simpler = await findDevice(live, `${pad} chains 0`, SIMPLER);
  if (!simpler) throw new Unloadable("no_pad_simpler", `Pad ${noteName(target.note)} holds no Simpler`);
  return simpler;
}

/** Whether this Live offers SimplerDevice.replace_sample (Live 12.4+), read from the Simpler's info. */
async function canReplaceSample(live, simplerPath) {
  return hasFunction(live, simplerPath, "replace_sample");
}

/** The file loaded in the Simpler at `simplerPath`, or null when it holds none. */
async function loadedFile(live, simplerPath) {
  const samplePath = `${simplerPath} sample`;
  try {
    await live.resolve(samplePath);
  } catch {
    return null; // an empty Simpler has no sample child
  }
  return (await live.get(samplePath, "file_path")) || null;
}

/**
 * Load `file` into the target's Simpler; resolves with the Simpler's path, or throws Unloadable
 * (no Simpler, Live older than 12.4, a Simpler in multi-sample mode, Live did not take the file).
 */
async function loadSample(live, target, file) {
  const simpler = await findSimpler(live, target, { fill: true });
  if (!(await canReplaceSample(live, simpler))) {
    throw new Unloadable("old_live", "This Live cannot load samples from a device (Live 12.4+ can)");
  }
  if (Number(await live.get(simpler, "multi_sample_mode")) === 1) {
    throw new Unloadable("multisample", "Simpler is in multi-sample mode: switch it to one sample to load into it");
  }
  await live.call(simpler, "replace_sample", file);
  for (const ms of LOAD_CHECKS) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    const now = await loadedFile(live, simpler);
    if (now && path.basename(now) === path.basename(file)) return simpler;
  }
  throw new Unloadable("not_taken", "Simpler did not take the file");
}

/**
 * The file in the target's Simpler and the part between its markers, for "Variate current sample":
 * {file, start, seconds} (seconds into the file), or null when it holds none.
 */
async function currentSample(live, target) {
  const simpler = await findSimpler(live, target);
  const file = await loadedFile(live, simpler);
  if (!file) return null;
  const sample = `${simpler} sample`;
  const [start, end, rate, length] = await Promise.all(
    ["start_marker", "end_marker", "sample_rate", "length"].map(async (name) => Number(await live.get(sample, name))),
  );
  const whole = start <= 0 && end >= length;
  if (whole || !(rate > 0 && end > start && start >= 0)) return { file, start: 0, seconds: null };
  return { file, start: start / rate, seconds: (end - start) / rate };
}

/** Polls `check()` at LOAD_CHECKS intervals (Live applies some changes later); whether it came true. */
async function eventually(check) {
  for (const ms of LOAD_CHECKS) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (await check()) return true;
  }
  return false;
}

/**
 * Put the loop `file` (`beats` quarter notes long) into the clip slot highlighted in Session View
 * (Song.View.highlighted_clip_slot) as an audio clip: ClipSlot.create_audio_clip (Live 12), then the
 * clip's Warp switch on (Clip.warping, which Live sets later: it is waited for), a warp marker that
 * puts the end of the file on beat `beats` (Clip.add_warp_marker with the file's length from
 * sample_length / sample_rate: the clip's tempo is the file's), Loop on and the loop brace on the
 * whole loop (looping, loop_start, loop_end in beats). Resolves with where it went, in words
 * ("clip slot 1 of 2-Audio"); throws Unloadable when no empty slot of an audio track is selected or
 * this Live cannot create clips from a device.
 */
async function loadLoopClip(live, file, beats) {
  const ref = /^id (\d+)$/.exec(String((await live.get("live_set view", "highlighted_clip_slot")) || ""));
  if (!ref || ref[1] === "0") {
    throw new Unloadable("no_slot", "No clip slot is selected: click an empty slot of an audio track in Session View");
  }
  const slot = (await live.resolve(`id ${ref[1]}`)).path;
  const track = trackOf(slot);
  const trackName = await live.get(track, "name");
  const where = `clip slot ${Number(slot.split(" ").pop()) + 1} of ${trackName}`;
  if (Number(await live.get(track, "has_audio_input")) !== 1) {
    throw new Unloadable("not_audio", `${trackName} is not an audio track: select an empty clip slot of an audio track`);
  }
  if (Number(await live.get(slot, "has_clip")) === 1) {
    throw new Unloadable("slot_full", `The selected ${where} holds a clip: select an empty one`);
  }
  if (!(await hasFunction(live, slot, "create_audio_clip"))) {
    throw new Unloadable("old_live", "This Live cannot create audio clips from a device (Live 12.0.5 and newer can)");
  }
  await live.call(slot, "create_audio_clip", file);
  const clip = `${slot} clip`;
  const created = await eventually(async () => {
    if (Number(await live.get(slot, "has_clip")) !== 1) return false;
    return path.basename(String(await live.get(clip, "file_path"))) === path.basename(file);
  });
  if (!created) throw new Unloadable("not_taken", `Live did not create the clip in ${where}`);
  await live.set(clip, "warping", 1);
  if (!(await eventually(async () => Number(await live.get(clip, "warping")) === 1))) {
    throw new Unloadable("not_warped", `Live did not turn on Warp for the clip in ${where}`);
  }
  const [frames, rate] = await Promise.all(["sample_length", "sample_rate"].map(async (n) => Number(await live.get(clip, n))));
  await live.call(clip, "add_warp_marker", { beat_time: beats, sample_time: frames / rate });
  await live.set(clip, "looping", 1);
  await live.set(clip, "loop_end", beats);
  await live.set(clip, "loop_start", 0);
  return where;
}

/** Tempo and time signature of the Live Set. */
async function songTiming(live) {
  const [tempo, numerator, denominator] = await Promise.all([
    live.get("live_set", "tempo"),
    live.get("live_set", "signature_numerator"),
    live.get("live_set", "signature_denominator"),
  ]);
  return { tempo: Number(tempo), numerator: Number(numerator), denominator: Number(denominator) };
}

module.exports = { Unloadable, noteName, trackOf, loadSample, loadLoopClip, currentSample, songTiming, capabilities };
