"use strict";
/**
 * A small Live Set behind a stand-in for Max's JavaScript `LiveAPI` object, so the device's real
 * [js ddbridge_lom.js] script can run under Node.
 *
 * The stand-in implements the LiveAPI members the script uses, as documented
 * (https://docs.cycling74.com/latest/vignettes/jsliveapi): `new LiveAPI(path)` with canonical
 * paths, "id N" and "this_device"; `id` ("0" when nothing is there), `unquotedpath`, `type`,
 * `info`, `get(name)` (a list of atoms; children as "id N" pairs), `set(name, value)`,
 * `getcount(child)` and `call(name, ...args)`. Every call and set is recorded in `set.calls`.
 * The Live version (live_app major/minor/bugfix_version) decides which LOM functions exist:
 * SimplerDevice.replace_sample from 12.4, RackDevice.insert_chain, Chain.insert_device and a
 * settable DrumChain.in_note from 12.3 (Cycling '74's LOM reference). For loops: tracks with clip
 * slots, Song.View.highlighted_clip_slot (`live_set view`, a reference, not a child), and
 * ClipSlot.create_audio_clip(path) from Live 12.0.5, which makes an audio Clip of the real WAV with
 * the documented Clip members the device uses (file_path, sample_length, sample_rate, warping, which
 * Live sets later, looping, loop_start, loop_end and add_warp_marker).
 */

const fs = require("fs");
const path = require("path");
const vm = require("vm");

const { readWav } = require("./wav");

const LOM_SCRIPT = path.join(__dirname, "..", "ddbridge_lom.js");
const CREATE_AUDIO_CLIP_SINCE = [12, 0, 5];

function versionAtLeast(version, wanted) {
  for (let i = 0; i < wanted.length; i += 1) {
    if ((version[i] || 0) !== wanted[i]) return (version[i] || 0) > wanted[i];
  }
  return true;
}

class LiveObject {
  constructor(type, properties = {}, functions = {}) {
    this.type = type;
    this.properties = properties;
    this.functions = functions;
    this.children = {}; // name -> LiveObject | LiveObject[] | null
    this.links = {}; // name -> LiveObject | null: children that are references to objects elsewhere
    this.setters = {}; // name -> function(value): how setting a property takes effect, when not at once
    this.parent = null;
    this.place = ""; // "devices 1", "sample", ...
    this.id = 0;
  }

  add(name, child) {
    this.children[name] = child;
    const items = Array.isArray(child) ? child : child ? [child] : [];
    items.forEach((item, i) => {
      item.parent = this;
      item.place = Array.isArray(child) ? `${name} ${i}` : name;
    });
    return this;
  }

  get path() {
    return this.parent ? `${this.parent.path} ${this.place}` : this.place;
  }
}

/**
 * A Simpler, holding `file` (or nothing); `replaceSample` says whether this Live offers replace_sample;
 * `multiSample` puts it in multi-sample mode; `markers` [start, end] in frames (default: the whole sample).
 */
function simpler({ file = null, replaceSample = true, multiSample = false, markers = [0, 1000] } = {}) {
  const functions = { crop: () => null, reverse: () => null };
  const properties = { class_name: "OriginalSimpler", name: "Simpler", multi_sample_mode: multiSample ? 1 : 0 };
  const device = new LiveObject("SimplerDevice", properties, functions);
  const sampleOf = (f) =>
    new LiveObject("Sample", {
      file_path: f, length: 1000, sample_rate: 44100, start_marker: markers[0], end_marker: markers[1],
    });
  if (replaceSample) {
    functions.replace_sample = (f) => {
      device.add("sample", sampleOf(f));
      device.set.index(device);
      return null;
    };
  }
  return device.add("sample", file ? sampleOf(file) : null);
}

/**
 * An audio clip as ClipSlot.create_audio_clip makes it of the WAV `file` (read for its length and rate):
 * unwarped, so its loop and markers are in seconds. Setting `warping` takes effect a little later
 * ("Internally, Live will defer the setting of this property"). add_warp_marker({beat_time,
 * sample_time}) works on warped clips only, with the sample time in [0, the sample's length].
 */
function audioClip(file) {
  const wav = readWav(file);
  const seconds = wav.frames / wav.sampleRate;
  const clip = new LiveObject("Clip", {
    name: path.basename(file, path.extname(file)),
    file_path: file,
    is_audio_clip: 1,
    sample_length: wav.frames,
    sample_rate: wav.sampleRate,
    warping: 0,
    looping: 0,
    loop_start: 0,
    loop_end: seconds,
    start_marker: 0,
    end_marker: seconds,
  });
  clip.warpMarkers = [];
  clip.setters.warping = (value) => setTimeout(() => {
    clip.properties.warping = value;
  }, 50);
  clip.functions.add_warp_marker = (marker) => {
    if (clip.properties.warping !== 1) return null;
    const { beat_time: beat, sample_time: time } = marker || {};
    if (typeof beat === "number" && typeof time === "number" && time >= 0 && time <= seconds) {
      clip.warpMarkers.push({ beat_time: beat, sample_time: time });
    }
    return null;
  };
  return clip;
}

/** A Session View clip slot, empty; from Live 12.0.5 it offers create_audio_clip. */
function clipSlot(version) {
  const slot = new LiveObject("ClipSlot", { has_clip: 0, has_stop_button: 1, is_playing: 0 });
  slot.add("clip", null);
  if (versionAtLeast(version, CREATE_AUDIO_CLIP_SINCE)) {
    // "Throws an error when called on non-empty slots or slots in non-audio or frozen tracks, or when the
    // path doesn't point at a valid audio file."
    slot.functions.create_audio_clip = (file) => {
      if (slot.properties.has_clip === 1) throw new Error("create_audio_clip: the clip slot is not empty");
      if (slot.parent.properties.has_audio_input !== 1) throw new Error("create_audio_clip: not an audio track");
      slot.add("clip", audioClip(file));
      slot.properties.has_clip = 1;
      slot.set.index(slot);
      return null;
    };
  }
  return slot;
}

/** The ddbridge device itself (an audio effect). */
function thisDevice() {
  return new LiveObject("Device", { class_name: "MxDeviceAudioEffect", name: "ddbridge" });
}

/** A chain of a Drum Rack on `note`; with `insertDevice` (Live 12.3+) it offers insert_device. */
function drumChain(note, devices, { insertDevice = false, replaceSample = true } = {}) {
  const chain = new LiveObject("DrumChain", { name: "chain", in_note: note });
  chain.add("devices", devices);
  if (insertDevice) {
    chain.functions.insert_device = (name) => {
      if (name !== "Simpler") return null;
      chain.add("devices", [...chain.children.devices, simpler({ replaceSample })]);
      chain.set.index(chain);
      return null;
    };
  }
  return chain;
}

/**
 * A Drum Rack whose pads hold the devices given as `{note: [device, ...]}`. `live12_3` gives it
 * insert_chain (a new chain on "All Notes" until its in_note is set) and its chains insert_device.
 */
function drumRack(pads = {}, { live12_3 = false, replaceSample = true } = {}) {
  const properties = { class_name: "DrumGroupDevice", name: "Drum Rack", can_have_drum_pads: 1 };
  const rack = new LiveObject("RackDevice", properties);
  const chains = Object.entries(pads).map(([note, devices]) => drumChain(Number(note), devices));
  const drumPads = [];
  for (let note = 0; note < 128; note += 1) drumPads.push(new LiveObject("DrumPad", { note, name: "" }));
  rack.add("drum_pads", drumPads);
  /** Each pad's chains are the rack's chains whose in_note is the pad's note (canonically rack chains N). */
  rack.sync = () => {
    for (const pad of drumPads) {
      pad.children.chains = rack.children.chains.filter((c) => c.properties.in_note === pad.properties.note);
    }
  };
  rack.add("chains", chains);
  rack.sync();
  if (live12_3) {
    rack.functions.insert_chain = () => {
      rack.add("chains", [...rack.children.chains, drumChain(-1, [], { insertDevice: true, replaceSample })]);
      rack.sync();
      rack.set.index(rack);
      return null;
    };
  }
  return rack;
}

const SLOTS = 4; // clip slots (scenes) of every track

class FakeLiveSet {
  /**
   * `devices`: the devices on track 0 (a MIDI track), one of them `me` (this device); then
   * `audioTracks` audio tracks; every track has SLOTS clip slots; `highlighted`: [track, slot] of the
   * clip slot highlighted in Session View, or null.
   */
  constructor({
    devices,
    me,
    tempo = 120,
    numerator = 4,
    denominator = 4,
    version = [12, 4, 0],
    audioTracks = 1,
    highlighted = null,
  }) {
    this.song = new LiveObject("Song", { tempo, signature_numerator: numerator, signature_denominator: denominator });
    this.song.place = "live_set";
    const [major_version, minor_version, bugfix_version] = version;
    this.app = new LiveObject("Application", { major_version, minor_version, bugfix_version });
    this.app.place = "live_app";
    const slots = () => Array.from({ length: SLOTS }, () => clipSlot(version));
    const track = new LiveObject("Track", { name: "1-MIDI", has_audio_input: 0, has_midi_input: 1 });
    track.add("devices", devices).add("clip_slots", slots());
    const audio = Array.from({ length: audioTracks }, (_, i) =>
      new LiveObject("Track", { name: `${i + 2}-Audio`, has_audio_input: 1, has_midi_input: 0 })
        .add("devices", [])
        .add("clip_slots", slots()),
    );
    this.song.add("tracks", [track, ...audio]);
    this.view = new LiveObject("Song.View", { follow_song: 0 });
    this.song.add("view", this.view);
    this.view.links.highlighted_clip_slot = highlighted ? this.song.children.tracks[highlighted[0]].children.clip_slots[highlighted[1]] : null;
    this.me = me;
    this.byId = new Map();
    this.nextId = 1;
    this.calls = [];
    this.index(this.song);
    this.index(this.app);
  }

  index(object) {
    if (!object.id) {
      object.id = this.nextId;
      this.nextId += 1;
    }
    object.set = this;
    this.byId.set(object.id, object);
    for (const child of Object.values(object.children)) {
      for (const item of Array.isArray(child) ? child : child ? [child] : []) this.index(item);
    }
  }

  lookup(text) {
    const tokens = String(text).trim().split(/\s+/);
    let object;
    if (tokens[0] === "id") return this.byId.get(Number(tokens[1])) || null;
    if (tokens[0] === "live_set") object = this.song;
    else if (tokens[0] === "live_app") object = this.app;
    else if (tokens[0] === "this_device") object = this.me;
    else return null;
    for (let i = 1; object && i < tokens.length; i += 1) {
      const name = tokens[i];
      if (name === "canonical_parent") {
        object = object.parent;
        continue;
      }
      const child = name in object.children ? object.children[name] : object.links[name];
      if (Array.isArray(child)) {
        i += 1;
        object = child[Number(tokens[i])] || null;
      } else {
        object = child || null;
      }
    }
    return object || null;
  }

  /** The LiveAPI class over this set. */
  liveApiClass() {
    const set = this;
    return class LiveAPI {
      constructor(first, second) {
        this.target = set.lookup(typeof first === "function" || first === null ? second : first);
      }

      get id() {
        return this.target ? String(this.target.id) : "0";
      }

      get unquotedpath() {
        return this.target ? this.target.path : "";
      }

      get type() {
        return this.target ? this.target.type : "";
      }

      get info() {
        const t = this.target;
        const lines = [`id ${t.id}`, `type ${t.type}`];
        for (const [name, child] of Object.entries(t.children)) {
          lines.push(`${Array.isArray(child) ? "children" : "child"} ${name}`);
        }
        for (const name of Object.keys(t.links)) lines.push(`child ${name}`);
        for (const name of Object.keys(t.properties)) lines.push(`property ${name}`);
        for (const name of Object.keys(t.functions)) lines.push(`function ${name}`);
        lines.push("done");
        return lines.join("\n");
      }

      get(name) {
        const t = this.target;
        if (Object.prototype.hasOwnProperty.call(t.properties, name)) return [t.properties[name]];
        if (name in t.links) return t.links[name] ? ["id", t.links[name].id] : ["id", 0];
        const child = t.children[name];
        if (Array.isArray(child)) return child.flatMap((c) => ["id", c.id]);
        return child ? ["id", child.id] : ["id", 0];
      }

      set(name, value) {
        const t = this.target;
        set.calls.push({ path: t.path, set: name, value });
        if (!Object.prototype.hasOwnProperty.call(t.properties, name)) return;
        if (t.setters[name]) {
          t.setters[name](value);
          return;
        }
        t.properties[name] = value;
        if (name === "in_note" && t.parent && t.parent.sync) t.parent.sync(); // the chain moves to that pad
      }

      getcount(name) {
        const child = this.target.children[name];
        return Array.isArray(child) ? child.length : 0;
      }

      call(name, ...args) {
        set.calls.push({ path: this.target.path, name, args });
        const fn = this.target.functions[name];
        return fn ? fn(...args) : undefined;
      }
    };
  }

  /**
   * The device's real [js ddbridge_lom.js], run in a sandbox with this set's LiveAPI; returns
   * `request(json)`, which answers through `onOutlet(...atoms)` like the [js] object's outlet.
   */
  lomScript(onOutlet) {
    const sandbox = { LiveAPI: this.liveApiClass(), outlet: (_n, ...atoms) => onOutlet(...atoms), post: () => {} };
    vm.createContext(sandbox);
    vm.runInContext(fs.readFileSync(LOM_SCRIPT, "utf8"), sandbox, { filename: LOM_SCRIPT });
    return (json) => sandbox.request(json);
  }
}

module.exports = { FakeLiveSet, simpler, drumRack, thisDevice, SLOTS };
