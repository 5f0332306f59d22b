"use strict";
/**
 * The device's logic: the controls' state, requests to the daemon, progress and errors in the
 * status line, and where each finished sound goes (the Simpler on this track, the Simpler on a
 * Drum Rack pad, or just the project folder).
 *
 * The patcher's messages arrive through `handlers()`; what the device shows or asks of Max
 * leaves through `outlet(selector, ...args)`:
 *   status <text>                  the status line
 *   progress <0..100>              the progress bar
 *   lom <json>                     a Live Object Model operation for [js ddbridge_lom.js] (lom.js)
 *   player open <path>, player 1   play a file in the device's [sfplay~] (when it cannot be loaded)
 *   ready                          the script runs: the patcher sends the controls' values again
 *   loops 1|0                      whether the daemon's model has a loop network: the Bars and Genre
 *                                  controls are active only then
 *
 * With a remote endpoint set (`remote tcp://host:port`), jobs run through `ddbridge request` on
 * that daemon (remote.js) and their files land in the project folder here; otherwise over OSC.
 */

const fs = require("fs");
const path = require("path");
const { Client, DdbridgeError } = require("./client");
const { RemoteClient, endpointHost } = require("./remote");
const { Live, LiveError } = require("./lom");
const { Unloadable, noteName, loadSample, loadLoopClip, currentSample, songTiming, capabilities } = require("./targets");
const { nativePath, isFolder, isFile } = require("./paths");

const CATEGORIES = ["kick", "snare", "hat", "clap", "perc", "bass", "loop"];
const PITCHED = new Set(["bass"]); // tuned to the pad's note; a drum's pad note is only where it sits
const TARGETS = ["simpler", "pad", "folder"];
const UNITS = ["seconds", "bars"];
// "Generate loop": bars of 4/4 and genres as a loop network offers them (its `models` entry's `loops`)
const LOOP_BARS = [1, 2, 4];
const GENRES = ["any", "house", "techno", "hiphop", "trap", "breakbeat", "dnb", "electro"];
const BEATS_PER_BAR = 4;
const MAX_SECONDS = 60;
const MAX_COUNT = 16;
const BIT_DEPTH = 24;

/** A problem the user can fix, shown as it is. */
class UserError extends Error {}

/**
 * Seconds for the length controls, or null for the model's own length (value 0). Bars follow the
 * Set's tempo and time signature: one bar is numerator * 4 / denominator beats.
 */
function lengthSeconds(value, unit, timing) {
  if (!(value > 0)) return null;
  if (unit === "seconds") return value;
  const beatsPerBar = (timing.numerator * 4) / timing.denominator;
  return (value * beatsPerBar * 60) / timing.tempo;
}

function clampInt(value, low, high) {
  return Math.min(high, Math.max(low, Math.round(Number(value) || 0)));
}

function plural(count, word) {
  return count === 1 ? `1 ${word}` : `${count} ${word}s`;
}

/** The default model's entry in a `models` reply (the first when none says so), or null. */
function defaultModel(reply) {
  const models = reply && reply.ok && Array.isArray(reply.models) ? reply.models : [];
  return models.find((m) => m.default) || models[0] || null;
}

/** "1-bar house loop", "2-bar loop" (any genre). */
function loopLabel(bars, genre) {
  return `${bars}-bar ${genre === "any" ? "" : `${genre} `}loop`;
}

/**
 * " · tuned to C1" (Live's note names) or " · not tuned: no clear pitch (…)" for a sound asked on a note
 * (its sidecar says which); "" otherwise.
 */
function tuning(file) {
  let metadata;
  try {
    metadata = JSON.parse(fs.readFileSync(file.replace(/\.wav$/i, ".json"), "utf8"));
  } catch {
    return "";
  }
  if (typeof metadata.tuned !== "boolean") return "";
  if (metadata.tuned) return ` · tuned to ${noteName(metadata.midi_note)}`;
  return ` · not tuned${String(metadata.tuning).replace(/^not tuned to [^:\s]+/, "")}`;
}

/** "…/Samples/Generated/kick" for files in a project layout, else the folder itself. */
function shortFolder(file) {
  const dir = path.dirname(file);
  const at = dir.lastIndexOf(`${path.sep}Samples${path.sep}Generated`);
  return at >= 0 ? dir.slice(at + 1) : dir;
}

class Device {
  /** `outlet(selector, ...args)` and `post(text, level)` reach Max. */
  constructor({ outlet, post }) {
    this.outlet = outlet;
    this.post = post;
    this.client = new Client();
    this.remote = null; // a RemoteClient while a remote endpoint is set
    this.command = null; // the ddbridge command the user chose (before DDBRIDGE_COMMAND and PATH)
    this.live = new Live((json) => this.outlet("lom", json));
    this.settings = {
      category: "kick",
      count: 1,
      length: 0,
      unit: "seconds",
      strength: 0.5,
      target: "simpler",
      pad: 36,
      folder: null,
      source: null,
      sampleRate: null,
      loopBars: 1,
      genre: "any",
    };
    this.job = null;
    this.lastFiles = [];
    this.capabilities = undefined; // what this Live allows, in words (null outside Live)
  }

  /** The messages the node.script understands: selector -> function(...args). */
  handlers() {
    const joined = (fn) => (...parts) => fn(parts.join(" "));
    return {
      category: (index) => this.choose("category", CATEGORIES, index),
      count: (n) => {
        this.settings.count = clampInt(n, 1, MAX_COUNT);
      },
      length: (value) => {
        this.settings.length = Math.max(0, Number(value) || 0);
      },
      unit: (index) => this.choose("unit", UNITS, index),
      bars: (index) => this.choose("loopBars", LOOP_BARS, index),
      genre: (index) => this.choose("genre", GENRES, index),
      strength: (value) => {
        this.settings.strength = Math.min(1, Math.max(0.01, Number(value) || 0));
      },
      target: (index) => this.choose("target", TARGETS, index),
      pad: (note) => {
        this.settings.pad = clampInt(note, 0, 127);
      },
      folder: joined((value) => this.setFolder(value)),
      source: joined((value) => this.setSource(value)),
      samplerate: (rate) => {
        const hz = Math.round(Number(rate));
        this.settings.sampleRate = hz >= 8000 && hz <= 192000 ? hz : null;
      },
      daemon: (port, host) => (/^tcp:/.test(String(port)) ? this.setRemote(port) : this.setDaemon(port, host)),
      ddbridge_command: joined((value) => this.setCommand(value)),
      generate: () => this.generate(),
      generate_loop: () => this.generateLoop(),
      variate: () => this.variate(),
      cancel: () => this.cancel(),
      lom_result: joined((json) => this.live.receive(json)),
    };
  }

  /** Ask the patcher for the controls' values and look for the daemon. */
  start() {
    this.outlet("ready");
    return this.check();
  }

  status(text) {
    this.outlet("status", text);
  }

  choose(setting, options, index) {
    const i = clampInt(index, 0, options.length - 1);
    this.settings[setting] = options[i];
  }

  // -- settings ---------------------------------------------------------------------------------

  setFolder(value) {
    const folder = nativePath(value);
    if (!folder) return; // an empty stored folder: keep the daemon's own
    if (!isFolder(folder)) {
      this.settings.folder = null;
      this.status(`Folder not found: ${folder} — pick the Set's folder again`);
      return;
    }
    this.settings.folder = folder;
    this.status(`New sounds go to ${path.join(folder, "Samples", "Generated")}`);
  }

  setSource(value) {
    const file = nativePath(value);
    if (!file) return;
    this.settings.source = file;
    this.status(`Next variation starts from ${path.basename(file)}`);
  }

  setDaemon(port, host = "127.0.0.1") {
    const number = Math.round(Number(port));
    if (!(number > 0 && number < 65536)) {
      this.status(`Not a UDP port: ${port}`);
      return undefined;
    }
    this.remote = null;
    const options = { ...this.client.options, port: number, host: String(host) };
    this.client.close();
    this.client = new Client(options);
    return this.check();
  }

  /** `daemon tcp://host:port`: run jobs on that daemon through `ddbridge request` (`daemon PORT` goes back to OSC). */
  setRemote(value) {
    const endpoint = String(value).trim();
    if (!endpointHost(endpoint)) {
      this.status(`Not a remote daemon address: ${endpoint} (write tcp://host:port)`);
      return undefined;
    }
    this.remote = new RemoteClient(endpoint, this.executable());
    this.status(`Remote daemon ${this.remote.host}: sounds are made there and saved in the project folder here`);
    return undefined;
  }

  /** `ddbridge_command PATH`: the ddbridge command for the remote daemon; empty: DDBRIDGE_COMMAND, else PATH. */
  setCommand(value) {
    const text = String(value).trim();
    const file = nativePath(text);
    if (text && !(file && isFile(file))) {
      this.status(`The ddbridge command was not found (${text}): give the full path of the ddbridge program`);
      return;
    }
    this.command = file;
    if (this.remote) this.remote.executable = this.executable();
    this.status(`Remote jobs run ${this.executable()}`);
  }

  /** The ddbridge command for remote jobs: the one chosen in the device, DDBRIDGE_COMMAND, or `ddbridge` on PATH. */
  executable() {
    return this.command || process.env.DDBRIDGE_COMMAND || "ddbridge";
  }

  // -- actions ----------------------------------------------------------------------------------

  /** Ping the daemon and say which model it serves. */
  async check() {
    const client = this.client;
    try {
      const pong = await client.call({ op: "ping" });
      const entry = defaultModel(await client.call({ op: "models" }));
      const model = entry ? ` · model ${entry.name}` : "";
      const loops = entry && entry.loops ? ` · loops at ${entry.loops.bpm[0]}–${entry.loops.bpm[1]} BPM` : "";
      const live = await this.liveCapabilities();
      if (client !== this.client) return;
      this.outlet("loops", entry && entry.loops ? 1 : 0);
      this.status(`ddbridge ${pong.version} ready${model}${loops}${live}`);
    } catch (error) {
      if (client === this.client) this.fail(error); // else the daemon's address changed meanwhile
    }
  }

  /** " · Live 12.1: plays results here (…)": what this Live allows, said once at load; "" outside Live. */
  async liveCapabilities() {
    if (this.capabilities === undefined) {
      try {
        this.capabilities = (await capabilities(this.live)).text;
      } catch (error) {
        if (!(error instanceof LiveError)) throw error;
        this.capabilities = null;
      }
    }
    return this.capabilities ? ` · ${this.capabilities}` : "";
  }

  async generate() {
    const { category, count } = this.settings;
    await this.exclusive(plural(count, category), async () => {
      const request = { ...this.output(), op: "generate", category, count };
      const seconds = await this.seconds();
      if (seconds) request.seconds = seconds;
      if (category === "loop") request.loop = true;
      const target = this.targetSpec();
      if (target && target.kind === "pad" && PITCHED.has(category)) request.note = target.note; // in key on its pad
      await this.place(await this.run(request, `Generating ${plural(count, category)}`));
    });
  }

  /**
   * "Generate loop": `loopBars` bars of `genre` at Live's tempo (live_set tempo) from the daemon's loop
   * network, into the clip slot selected in Session View (or played here when it cannot go there).
   * Nothing is asked of the daemon when its model has no loop network or the tempo is outside its range.
   */
  async generateLoop() {
    const { loopBars: bars, genre } = this.settings;
    await this.exclusive(`a ${loopLabel(bars, genre)}`, async () => {
      const bpm = Math.round(Number(await this.live.get("live_set", "tempo")) * 1000) / 1000;
      const loops = await this.loopNetwork();
      const [low, high] = loops.bpm;
      if (!(bpm >= low && bpm <= high)) {
        throw new UserError(`Live's tempo is ${bpm} BPM; the loop network makes loops at ${low}–${high} BPM: set a tempo in that range`);
      }
      if (!loops.bars.includes(bars)) throw new UserError(`The loop network makes ${loops.bars.join(", ")} bars, not ${bars}`);
      if (genre !== "any" && !loops.genres.includes(genre)) {
        throw new UserError(`The loop network has no genre ${genre}: it has ${loops.genres.join(", ")}`);
      }
      const request = { ...this.output(), op: "generate", category: "loop", bpm, bars, count: 1 };
      if (genre !== "any") request.genre = genre; // no genre: any
      const files = await this.run(request, `Generating a ${loopLabel(bars, genre)} at ${bpm} BPM`);
      await this.placeLoop(files[0].path, bpm, bars);
    });
  }

  /** The default model's loop network (`loops` of its `models` entry); UserError when it has none. */
  async loopNetwork() {
    const reply = this.remote ? await this.remote.call("models") : await this.client.call({ op: "models" });
    if (!reply.ok) throw new DdbridgeError(reply.error.code, reply.error.message);
    const entry = defaultModel(reply);
    this.outlet("loops", entry && entry.loops ? 1 : 0);
    if (!entry) throw new UserError("ddbridge serves no model");
    if (!entry.loops) {
      throw new UserError(
        `The daemon's model '${entry.name}' has no loop network, so it makes no loops at a tempo: start ddbridge serve with a model that has one`
      );
    }
    return entry.loops;
  }

  /** Put a loop into the selected clip slot (the Folder target only saves it); play it here when it cannot go there. */
  async placeLoop(file, bpm, bars) {
    const name = path.basename(file);
    if (this.settings.target === "folder") {
      this.play(file);
      this.status(`Saved ${name} in ${shortFolder(file)}`);
      return;
    }
    try {
      const where = await loadLoopClip(this.live, file, bars * BEATS_PER_BAR);
      this.status(`Loaded ${name} into ${where}: ${bpm} BPM, ${bars} bar${bars === 1 ? "" : "s"}, warped and looped`);
    } catch (error) {
      if (!(error instanceof Unloadable || error instanceof LiveError)) throw error;
      this.play(file);
      this.status(`${error.message} — playing ${name}; drag it in from ${shortFolder(file)}`);
    }
  }

  async variate() {
    await this.exclusive("a variation", async () => {
      const { file: source, start, seconds } = await this.variationSource();
      const { strength, count } = this.settings;
      const request = { ...this.output(), op: "variate", source, strength, count };
      if (start > 0) request.source_start = start; // the part between the Simpler's markers
      if (seconds) request.source_seconds = seconds;
      await this.place(await this.run(request, `Varying ${path.basename(source)}`));
    });
  }

  async cancel() {
    if (this.job && this.job.remote) {
      this.status(`Cancelling ${this.job.label}…`);
      this.job.remote.cancel();
      return;
    }
    if (!this.job || !this.job.id) {
      this.status("Nothing to cancel");
      return;
    }
    try {
      this.status(`Cancelling ${this.job.label}…`);
      await this.client.cancel(this.job.id);
    } catch (error) {
      this.fail(error);
    }
  }

  // -- internals --------------------------------------------------------------------------------

  /** Run `work` unless another request is still running; failures end up in the status line. */
  async exclusive(label, work) {
    if (this.job) {
      this.status(`Still working on ${this.job.label} — press Cancel to stop it`);
      return;
    }
    this.job = { label, id: null };
    try {
      await work();
    } catch (error) {
      this.fail(error);
    } finally {
      this.job = null;
    }
  }

  /** The output fields every job request carries: project folder, sample rate, bit depth. */
  output() {
    const request = { bit_depth: BIT_DEPTH, priority: "interactive" };
    if (this.settings.folder) request.project_dir = this.settings.folder;
    if (this.settings.sampleRate) request.sample_rate = this.settings.sampleRate;
    return request;
  }

  async seconds() {
    const { length, unit } = this.settings;
    if (!(length > 0)) return null;
    const seconds = lengthSeconds(length, unit, unit === "bars" ? await songTiming(this.live) : null);
    if (seconds > MAX_SECONDS) this.post(`ddbridge: ${seconds.toFixed(1)} s is too long; using ${MAX_SECONDS} s`);
    return Math.round(Math.min(seconds, MAX_SECONDS) * 1000) / 1000;
  }

  /** Send a job request, show its progress, resolve with its files. */
  async run(request, doing) {
    if (this.remote) return this.runRemote(request, doing);
    const id = this.client.newId();
    this.job.id = id;
    this.status(`${doing}…`);
    this.outlet("progress", 0);
    const files = await this.client.job(
      { ...request, id },
      {
        onProgress: (fraction) => {
          const percent = Math.round(fraction * 100);
          this.outlet("progress", percent);
          this.status(`${doing}… ${percent}%`);
        },
      }
    );
    this.outlet("progress", 100);
    this.lastFiles = files.map((f) => f.path);
    for (const f of files) this.post(`ddbridge: ${f.path} (seed ${f.seed})`);
    return files;
  }

  /** Run a job request on the remote daemon; its files are written into the project folder here. */
  async runRemote(request, doing) {
    const remote = this.remote;
    if (request.op === "variate") {
      throw new UserError(`Variations need a daemon on this machine: ${remote.host} cannot read ${path.basename(request.source)}`);
    }
    if (!request.project_dir) {
      throw new UserError(`Set the project folder first: sounds made on ${remote.host} are saved there`);
    }
    this.job.remote = remote;
    this.status(`${doing} on ${remote.host}…`);
    this.outlet("progress", 0);
    const files = await remote.job(request);
    this.outlet("progress", 100);
    this.lastFiles = files.map((f) => f.path);
    for (const f of files) this.post(`ddbridge: ${f.path} (seed ${f.seed})`);
    return files;
  }

  /** The Simpler/pad for the target setting, or null for the folder target. */
  targetSpec() {
    const { target, pad } = this.settings;
    if (target === "folder") return null;
    return target === "pad" ? { kind: "pad", note: pad } : { kind: "simpler" };
  }

  /** Load the first file where the target says; play it in the device when it cannot be loaded. */
  async place(files) {
    const file = files[0].path;
    const name = path.basename(file);
    const more = `${files.length > 1 ? ` (+${files.length - 1} more)` : ""}${tuning(file)}`;
    const target = this.targetSpec();
    if (!target) {
      this.play(file);
      this.status(`Saved ${name}${more} in ${shortFolder(file)}`);
      return;
    }
    try {
      await loadSample(this.live, target, file);
      const where = target.kind === "pad" ? `pad ${noteName(target.note)}` : "Simpler";
      this.status(`Loaded ${name} into ${where}${more}`);
    } catch (error) {
      if (!(error instanceof Unloadable || error instanceof LiveError)) throw error;
      this.play(file);
      this.status(`${error.message} — playing ${name}; drag it in from ${shortFolder(file)}`);
    }
  }

  /**
   * What "Variate current sample" varies, as {file, start, seconds}: a dropped file, the target's
   * sample between its markers, or the last result.
   */
  async variationSource() {
    const { source } = this.settings;
    if (source) {
      this.settings.source = null; // a dropped file seeds the next variation only
      return { file: source, start: 0, seconds: null };
    }
    const target = this.targetSpec();
    if (target) {
      try {
        const sample = await currentSample(this.live, target);
        if (sample) return sample;
      } catch (error) {
        if (!(error instanceof Unloadable || error instanceof LiveError)) throw error;
        this.post(`ddbridge: ${error.message}`);
      }
    }
    if (this.lastFiles.length) return { file: this.lastFiles[0], start: 0, seconds: null };
    throw new UserError("Nothing to vary: load a sample into the target, or drop one on the device");
  }

  play(file) {
    this.outlet("player", "open", file);
    this.outlet("player", 1);
  }

  fail(error) {
    this.outlet("progress", 0);
    if (error instanceof DdbridgeError && error.code === "cancelled") this.status("Cancelled");
    else if (error instanceof DdbridgeError && error.code === "not_running") this.status(error.message);
    else if (error instanceof DdbridgeError) this.status(`ddbridge: ${error.message}`);
    else if (error instanceof UserError || error instanceof LiveError || error instanceof Unloadable) {
      this.status(error.message);
    } else {
      this.status(`Error: ${error.message}`);
      this.post(`ddbridge: ${error.stack}`, "error");
    }
  }
}

module.exports = { Device, CATEGORIES, TARGETS, UNITS, LOOP_BARS, GENRES, lengthSeconds };
