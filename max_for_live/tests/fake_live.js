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
 * settable DrumChain.in_note from 12.3 (Cycling '74's LOM reference).
 */

const fs = require("fs");
const path = require("path");
const vm = require("vm");

const LOM_SCRIPT = path.join(__dirname, "..", "ddbridge_lom.js");

class LiveObject {
  constructor(type, properties = {}, functions = {}) {
    this.type = type;
    this.properties = properties;
    this.functions = functions;
    this.children = {}; // name -> LiveObject | LiveObject[] | null
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

class FakeLiveSet {
  /** `devices`: the devices on track 0, one of them `me` (this device). */
  constructor({ devices, me, tempo = 120, numerator = 4, denominator = 4, version = [12, 4, 0] }) {
    this.song = new LiveObject("Song", { tempo, signature_numerator: numerator, signature_denominator: denominator });
    this.song.place = "live_set";
    const [major_version, minor_version, bugfix_version] = version;
    this.app = new LiveObject("Application", { major_version, minor_version, bugfix_version });
    this.app.place = "live_app";
    const track = new LiveObject("Track", { name: "1-MIDI" }).add("devices", devices);
    this.song.add("tracks", [track]);
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
      const child = object.children[name];
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
        for (const name of Object.keys(t.properties)) lines.push(`property ${name}`);
        for (const name of Object.keys(t.functions)) lines.push(`function ${name}`);
        lines.push("done");
        return lines.join("\n");
      }

      get(name) {
        const t = this.target;
        if (Object.prototype.hasOwnProperty.call(t.properties, name)) return [t.properties[name]];
        const child = t.children[name];
        if (Array.isArray(child)) return child.flatMap((c) => ["id", c.id]);
        return child ? ["id", child.id] : ["id", 0];
      }

      set(name, value) {
        const t = this.target;
        set.calls.push({ path: t.path, set: name, value });
        if (!Object.prototype.hasOwnProperty.call(t.properties, name)) return;
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

module.exports = { FakeLiveSet, simpler, drumRack, thisDevice };
