// Built by max_for_live/build.js from ddbridge_node.js and its modules: edit those, then rebuild.
"use strict";
var __getOwnPropNames = Object.getOwnPropertyNames;
var __commonJS = (cb, mod) => function __require() {
  try {
    return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
  } catch (e) {
    throw mod = 0, e;
  }
};

// osc.js
var require_osc = __commonJS({
  "osc.js"(exports2, module2) {
    "use strict";
    var INT32_MIN = -(2 ** 31);
    var INT32_MAX = 2 ** 31 - 1;
    function oscString(text) {
      const raw = Buffer.from(String(text), "utf8");
      if (raw.includes(0)) throw new Error("OSC strings cannot contain NUL characters");
      return Buffer.concat([raw, Buffer.alloc(4 - raw.length % 4)]);
    }
    function typed(arg) {
      if (arg !== null && typeof arg === "object") return arg;
      if (typeof arg === "string") return { type: "s", value: arg };
      if (typeof arg === "boolean") return { type: arg ? "T" : "F", value: arg };
      if (arg === null) return { type: "N", value: null };
      if (typeof arg === "number" && Number.isInteger(arg) && arg >= INT32_MIN && arg <= INT32_MAX) {
        return { type: "i", value: arg };
      }
      if (typeof arg === "number") return { type: "f", value: arg };
      throw new TypeError(`cannot send ${typeof arg} over OSC`);
    }
    function argBytes({ type, value }) {
      let b;
      switch (type) {
        case "s":
          return oscString(value);
        case "i":
          b = Buffer.alloc(4);
          b.writeInt32BE(value);
          return b;
        case "f":
          b = Buffer.alloc(4);
          b.writeFloatBE(value);
          return b;
        case "h":
          b = Buffer.alloc(8);
          b.writeBigInt64BE(BigInt(value));
          return b;
        case "T":
        case "F":
        case "N":
          return Buffer.alloc(0);
        default:
          throw new Error(`unsupported OSC type tag '${type}'`);
      }
    }
    function encodeMessage(address, args = []) {
      if (typeof address !== "string" || !address.startsWith("/")) {
        throw new Error(`an OSC address starts with '/', got ${JSON.stringify(address)}`);
      }
      const items = args.map(typed);
      const tags = "," + items.map((a) => a.type).join("");
      return Buffer.concat([oscString(address), oscString(tags), ...items.map(argBytes)]);
    }
    var Reader = class {
      constructor(buf) {
        this.buf = buf;
        this.pos = 0;
      }
      need(n) {
        if (this.pos + n > this.buf.length) throw new Error("truncated OSC packet");
      }
      string() {
        const end = this.buf.indexOf(0, this.pos);
        if (end < 0) throw new Error("unterminated OSC string");
        const text = this.buf.toString("utf8", this.pos, end);
        this.pos = end + 1 + (4 - (end + 1) % 4) % 4;
        if (this.pos > this.buf.length) throw new Error("truncated OSC string padding");
        return text;
      }
      take(n, read) {
        this.need(n);
        const value = read(this.buf, this.pos);
        this.pos += n;
        return value;
      }
    };
    function readArg(r, tag) {
      switch (tag) {
        case "s":
        case "S":
          return r.string();
        case "i":
          return r.take(4, (b, p) => b.readInt32BE(p));
        case "f":
          return r.take(4, (b, p) => b.readFloatBE(p));
        case "d":
          return r.take(8, (b, p) => b.readDoubleBE(p));
        case "h": {
          const big = r.take(8, (b, p) => b.readBigInt64BE(p));
          return Number.isSafeInteger(Number(big)) ? Number(big) : big;
        }
        case "b": {
          const size = r.take(4, (b, p) => b.readInt32BE(p));
          if (size < 0) throw new Error("negative OSC blob size");
          const blob = r.take(size, (b, p) => Buffer.from(b.subarray(p, p + size)));
          r.take((4 - size % 4) % 4, () => null);
          return blob;
        }
        case "T":
          return true;
        case "F":
          return false;
        case "N":
          return null;
        default:
          throw new Error(`unsupported OSC type tag '${tag}'`);
      }
    }
    function decodeMessage(buf) {
      const r = new Reader(buf);
      const address = r.string();
      if (!address.startsWith("/")) throw new Error("not an OSC message");
      if (r.pos >= buf.length) return { address, args: [] };
      const tags = r.string();
      if (!tags.startsWith(",")) throw new Error("OSC type tags must start with ','");
      const args = [...tags.slice(1)].map((tag) => readArg(r, tag));
      return { address, args };
    }
    function decodePacket(buf) {
      if (buf.length >= 8 && buf.toString("latin1", 0, 8) === "#bundle\0") {
        const r = new Reader(buf);
        r.pos = 8;
        r.take(8, () => null);
        const messages = [];
        while (r.pos < buf.length) {
          const size = r.take(4, (b, p) => b.readInt32BE(p));
          if (size <= 0 || size % 4 !== 0) throw new Error("bad OSC bundle element size");
          const element = r.take(size, (b, p) => b.subarray(p, p + size));
          messages.push(...decodePacket(element));
        }
        return messages;
      }
      return [decodeMessage(buf)];
    }
    module2.exports = { encodeMessage, decodePacket };
  }
});

// client.js
var require_client = __commonJS({
  "client.js"(exports2, module2) {
    "use strict";
    var dgram = require("dgram");
    var crypto = require("crypto");
    var { encodeMessage, decodePacket } = require_osc();
    var DdbridgeError = class extends Error {
      constructor(code, message) {
        super(message);
        this.name = "DdbridgeError";
        this.code = code;
      }
    };
    var DEFAULTS = {
      host: "127.0.0.1",
      port: 9e3,
      replyPort: 0,
      answerTimeoutMs: 1500,
      // the daemon answers every request at once; silence means it is not there
      stallTimeoutMs: 6e4
      // a job that reports nothing for this long is asked about again
    };
    var Client = class {
      /** `options`: host, port, replyPort, answerTimeoutMs, stallTimeoutMs (see DEFAULTS). */
      constructor(options = {}) {
        this.options = { ...DEFAULTS, ...options };
        this.pending = /* @__PURE__ */ new Map();
        this.socket = null;
        this.ready = null;
        this.prefix = `m4l-${crypto.randomBytes(3).toString("hex")}`;
        this.counter = 0;
      }
      get address() {
        return `${this.options.host}:${this.options.port}`;
      }
      /** A fresh request id. */
      newId() {
        this.counter += 1;
        return `${this.prefix}-${this.counter}`;
      }
      /** Bind the socket replies arrive on (once); rejects when the reply port is taken. */
      open() {
        if (!this.ready) {
          const socket = dgram.createSocket("udp4");
          this.socket = socket;
          this.ready = new Promise((resolve, reject) => {
            socket.once("error", (err) => {
              socket.close();
              this.socket = null;
              this.ready = null;
              const why = `cannot listen on UDP port ${this.options.replyPort}: ${err.message}`;
              reject(new DdbridgeError("unavailable", why));
            });
            const local = /^(127\.|localhost$)/.test(this.options.host);
            socket.bind(this.options.replyPort, local ? "127.0.0.1" : void 0, () => {
              socket.removeAllListeners("error");
              socket.on("error", (err) => {
                this.failAll(new DdbridgeError("unavailable", `OSC socket error: ${err.message}`));
              });
              socket.on("message", (data) => this.receive(data));
              resolve();
            });
          });
        }
        return this.ready;
      }
      /** Stop listening and fail every request still waiting. */
      close() {
        this.failAll(new DdbridgeError("unavailable", "the ddbridge client was closed"));
        if (this.socket) {
          this.socket.close();
          this.socket = null;
          this.ready = null;
        }
      }
      /**
       * Send one request object (an `id` is added when missing) and resolve with the daemon's JSON reply.
       * Rejects with `not_running` when nothing answers within `timeoutMs`. Error replies resolve too
       * (`ok: false`).
       */
      async call(request, timeoutMs = this.options.answerTimeoutMs) {
        const message = { v: 1, ...request, id: request.id || this.newId() };
        return this.sendText(JSON.stringify(message), message.id, timeoutMs);
      }
      /**
       * Send raw text as `/ddbridge/request` and resolve with the reply for `id` (`""` when the text
       * carries no usable id: the daemon then replies with id null).
       */
      async sendText(text, id = "", timeoutMs = this.options.answerTimeoutMs) {
        await this.open();
        return new Promise((resolve, reject) => {
          const entry = { kind: "call", resolve, reject };
          this.track(id, entry);
          entry.timer = setTimeout(() => this.fail(id, this.silence()), timeoutMs);
          this.transmit(text, id);
        });
      }
      /**
       * Run a job request (generate, variate, ...) without blocking the daemon's reply: resolves with its
       * files `[{path, seed}]` once every file exists; rejects with a `DdbridgeError`.
       * `onProgress(fraction)` hears the job's progress.
       */
      async job(request, { onProgress = () => {
      } } = {}) {
        const message = { v: 1, ...request, id: request.id || this.newId(), wait: false };
        const text = JSON.stringify(message);
        await this.open();
        return new Promise((resolve, reject) => {
          const entry = { kind: "job", resolve, reject, onProgress, text, files: [], answered: false };
          this.track(message.id, entry);
          this.transmit(text, message.id);
          this.watch(message.id, this.options.answerTimeoutMs);
        });
      }
      /** Ask the daemon to cancel job `id`; resolves with the job's state ("cancelled", "done", ...). */
      async cancel(id) {
        const reply = await this.call({ op: "cancel", job: id });
        if (!reply.ok) throw new DdbridgeError(reply.error.code, reply.error.message);
        return reply.state;
      }
      // -- internals --------------------------------------------------------------------------------
      silence() {
        return new DdbridgeError(
          "not_running",
          `ddbridge is not running (no answer on udp://${this.address}); start it with: ddbridge serve`
        );
      }
      track(id, entry) {
        const previous = this.pending.get(id);
        if (previous) this.fail(id, new DdbridgeError("bad_request", `request id '${id}' was reused`));
        this.pending.set(id, entry);
      }
      transmit(text, id) {
        const data = encodeMessage("/ddbridge/request", [text]);
        this.socket.send(data, this.options.port, this.options.host, (err) => {
          if (!err) return;
          this.fail(id, new DdbridgeError("unavailable", `sending to udp://${this.address} failed: ${err.message}`));
        });
      }
      /** (Re)arm a job's timer: no word for `ms` -> ask again (the daemon re-attaches the same request). */
      watch(id, ms) {
        const entry = this.pending.get(id);
        if (!entry) return;
        clearTimeout(entry.timer);
        entry.timer = setTimeout(() => {
          if (!entry.answered) {
            this.fail(id, this.silence());
            return;
          }
          entry.answered = false;
          this.transmit(entry.text, id);
          this.watch(id, this.options.answerTimeoutMs);
        }, ms);
      }
      heard(id) {
        const entry = this.pending.get(id);
        if (entry && entry.kind === "job") {
          entry.answered = true;
          this.watch(id, this.options.stallTimeoutMs);
        }
        return entry;
      }
      receive(data) {
        let messages;
        try {
          messages = decodePacket(data);
        } catch {
          return;
        }
        for (const { address, args } of messages) {
          const id = typeof args[0] === "string" ? args[0] : "";
          if (address === "/ddbridge/reply") this.onReply(id, args[1]);
          else if (address === "/ddbridge/progress") this.onProgress(id, args[1]);
          else if (address === "/ddbridge/done") this.onDone(id, args);
          else if (address === "/ddbridge/error") this.onError(id, args);
        }
      }
      onReply(id, text) {
        let reply;
        try {
          reply = JSON.parse(text);
        } catch {
          this.fail(id, new DdbridgeError("internal", "the daemon sent a reply that is not JSON"));
          return;
        }
        const entry = this.heard(id);
        if (!entry) return;
        if (entry.kind === "call") {
          this.settle(id);
          entry.resolve(reply);
        } else if (!reply.ok) {
          this.fail(id, new DdbridgeError(reply.error.code, reply.error.message));
        } else if (reply.state === "done" && Array.isArray(reply.files)) {
          this.settle(id);
          entry.resolve(reply.files.map((f) => ({ path: f.path, seed: String(f.seed) })));
        }
      }
      onProgress(id, fraction) {
        const entry = this.heard(id);
        if (entry && entry.kind === "job" && typeof fraction === "number") entry.onProgress(fraction);
      }
      onDone(id, [, path, seed, index, count]) {
        const entry = this.heard(id);
        if (!entry || entry.kind !== "job") return;
        entry.files[index] = { path, seed };
        if (entry.files.filter(Boolean).length === count) {
          this.settle(id);
          entry.resolve(entry.files);
        }
      }
      onError(id, [, code, message]) {
        const entry = this.pending.get(id);
        if (entry && entry.kind === "job") this.fail(id, new DdbridgeError(code, message));
      }
      settle(id) {
        const entry = this.pending.get(id);
        if (entry) {
          clearTimeout(entry.timer);
          this.pending.delete(id);
        }
        return entry;
      }
      fail(id, error) {
        const entry = this.settle(id);
        if (entry) entry.reject(error);
      }
      failAll(error) {
        for (const id of [...this.pending.keys()]) this.fail(id, error);
      }
    };
    module2.exports = { Client, DdbridgeError };
  }
});

// remote.js
var require_remote = __commonJS({
  "remote.js"(exports2, module2) {
    "use strict";
    var { execFile } = require("child_process");
    var fs = require("fs");
    var os = require("os");
    var path = require("path");
    var { DdbridgeError } = require_client();
    var QUICK_TIMEOUT_S = 4;
    var JOB_TIMEOUT_S = 600;
    var RETRIES = 2;
    function endpointHost(value) {
      const match = /^tcp:\/\/([^\s/]+:\d{1,5})$/.exec(String(value).trim());
      return match ? match[1] : null;
    }
    function requestArgs(request, endpoint) {
      const args = ["request", request.op, "--endpoint", endpoint, "--json", "--deliver", "reply", "--wait"];
      args.push("--timeout", String(QUICK_TIMEOUT_S), "--retries", String(RETRIES), "--job-timeout", String(JOB_TIMEOUT_S));
      const flags = {
        category: "--category",
        count: "--count",
        seconds: "--seconds",
        bit_depth: "--bit-depth",
        priority: "--priority",
        project_dir: "--project-dir",
        sample_rate: "--sample-rate",
        strength: "--strength",
        source_start: "--source-start",
        source_seconds: "--source-seconds"
      };
      for (const [field, flag] of Object.entries(flags)) {
        if (request[field] !== void 0 && request[field] !== null) args.push(flag, String(request[field]));
      }
      if (request.loop) args.push("--loop");
      if (request.source) args.push(request.source);
      return args;
    }
    var SENT_WHOLE = ["bpm", "bars", "genre"];
    function sendArgs(requestFile, endpoint) {
      const args = ["request", "send", requestFile, "--endpoint", endpoint, "--deliver", "reply"];
      args.push("--timeout", String(QUICK_TIMEOUT_S), "--retries", String(RETRIES), "--job-timeout", String(JOB_TIMEOUT_S));
      return args;
    }
    var RemoteClient = class {
      /** `endpoint`: tcp://host:port; `executable`: the ddbridge command (a path, or a name on PATH). */
      constructor(endpoint, executable = "ddbridge") {
        this.endpoint = endpoint;
        this.host = endpointHost(endpoint);
        this.executable = executable;
        this.child = null;
        this.cancelled = false;
      }
      /**
       * Run one job request; resolves with its files `[{path, seed}]` written here; rejects with a DdbridgeError.
       * A loop at a tempo (bpm, bars, genre) goes through `ddbridge request send` as the request's JSON.
       */
      async job(request) {
        const reply = await this.command((dir) => {
          if (!SENT_WHOLE.some((field) => request[field] !== void 0)) return requestArgs(request, this.endpoint);
          const file = path.join(dir, "request.json");
          fs.writeFileSync(file, JSON.stringify({ v: 1, id: `m4l-${path.basename(dir)}`, ...request, wait: true }));
          return sendArgs(file, this.endpoint);
        });
        if (!reply.ok) throw this.explain(reply.error);
        return reply.files.map((f) => ({ path: f.path, seed: String(f.seed) }));
      }
      /** A quick request without fields (`models`, `ping`); resolves with the daemon's reply, ok or not. */
      async call(op) {
        const reply = await this.command(() => [
          "request",
          op,
          "--endpoint",
          this.endpoint,
          "--json",
          "--timeout",
          String(QUICK_TIMEOUT_S),
          "--retries",
          String(RETRIES)
        ]);
        if (!reply.ok && reply.error && reply.error.code === "unavailable") throw this.explain(reply.error);
        return reply;
      }
      /** Run `ddbridge` with the arguments `argsIn(tempDir)` gives and `--result-file`; resolves with the reply it wrote. */
      async command(argsIn) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddbridge-m4l-"));
        const resultFile = path.join(dir, "reply.json");
        this.cancelled = false;
        try {
          const { error, stderr } = await this.execute([...argsIn(dir), "--result-file", resultFile]);
          if (this.cancelled) throw new DdbridgeError("cancelled", "cancelled");
          if (error && error.code === "ENOENT") {
            throw new DdbridgeError(
              "not_running",
              `The ddbridge command was not found (${this.executable}): install ddbridge here or set its path in the device`
            );
          }
          if (error && error.killed) throw this.timedOut();
          const reply = readReply(resultFile);
          if (!reply) throw new DdbridgeError("internal", `ddbridge request failed: ${lastLine(stderr) || error}`);
          return reply;
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
      /** Stop the running request here (the daemon finishes its job; nothing is written here). */
      cancel() {
        if (!this.child) return false;
        this.cancelled = true;
        this.child.kill();
        return true;
      }
      execute(args) {
        return new Promise((resolve) => {
          const timeout = (RETRIES * (JOB_TIMEOUT_S + QUICK_TIMEOUT_S) + 10) * 1e3;
          this.child = execFile(this.executable, args, { timeout, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
            this.child = null;
            resolve({ error, stdout, stderr });
          });
        });
      }
      explain(error) {
        const { code, message } = error || { code: "internal", message: "no error in the reply" };
        if (code === "unavailable" && /no reply/.test(message)) {
          if (!message.includes(`of ${QUICK_TIMEOUT_S} s`)) return this.timedOut();
          return new DdbridgeError(
            "not_running",
            `No answer from ${this.host}: the daemon is down or unreachable, or it refused this machine's key (check remote.toml and the daemon's allowed clients)`
          );
        }
        return new DdbridgeError(code, message);
      }
      timedOut() {
        return new DdbridgeError("timeout", `No result from ${this.host} within ${RETRIES * JOB_TIMEOUT_S / 60} min`);
      }
    };
    function readReply(file) {
      try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
      } catch {
        return null;
      }
    }
    function lastLine(text) {
      return String(text || "").trim().split("\n").pop();
    }
    module2.exports = { RemoteClient, endpointHost, requestArgs, sendArgs };
  }
});

// lom.js
var require_lom = __commonJS({
  "lom.js"(exports2, module2) {
    "use strict";
    var LiveError = class extends Error {
      constructor(message) {
        super(message);
        this.name = "LiveError";
      }
    };
    var Live = class {
      /** `send(json)` carries one operation to the [js] object; answers come back through `receive`. */
      constructor(send, { timeoutMs = 2e3 } = {}) {
        this.send = send;
        this.timeoutMs = timeoutMs;
        this.seq = 0;
        this.pending = /* @__PURE__ */ new Map();
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
        if (!Array.isArray(atoms) || atoms.length === 0) return void 0;
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
    };
    module2.exports = { Live, LiveError };
  }
});

// targets.js
var require_targets = __commonJS({
  "targets.js"(exports2, module2) {
    "use strict";
    var path = require("path");
    var SIMPLER = "OriginalSimpler";
    var REPLACE_SAMPLE_SINCE = [12, 4];
    var LOAD_CHECKS = [0, 150, 400];
    var DRUM_RACK = "DrumGroupDevice";
    var NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
    var Unloadable = class extends Error {
      constructor(reason, message) {
        super(message);
        this.name = "Unloadable";
        this.reason = reason;
      }
    };
    function noteName(note) {
      return `${NOTE_NAMES[note % 12]}${Math.floor(note / 12) - 2}`;
    }
    function trackOf(devicePath) {
      const match = /^live_set (?:(?:tracks|return_tracks) \d+|master_track)/.exec(devicePath);
      if (!match) throw new Unloadable("no_track", `This device is not on a track (${devicePath})`);
      return match[0];
    }
    async function thisTrack(live) {
      const me = await live.resolve("this_device");
      return trackOf(me.path);
    }
    async function findDevice(live, chainPath, className) {
      const n = await live.count(chainPath, "devices");
      for (let i = 0; i < n; i += 1) {
        const devicePath = `${chainPath} devices ${i}`;
        if (await live.get(devicePath, "class_name") === className) return devicePath;
      }
      return null;
    }
    async function liveVersion(live) {
      const parts = await Promise.all(["major_version", "minor_version", "bugfix_version"].map((n) => live.get("live_app", n)));
      return parts.map(Number);
    }
    function atLeast(version, wanted) {
      return version[0] > wanted[0] || version[0] === wanted[0] && version[1] >= wanted[1];
    }
    async function capabilities(live) {
      const version = await liveVersion(live);
      const name = `Live ${version.join(".")}`;
      if (atLeast(version, REPLACE_SAMPLE_SINCE)) return { version, load: true, text: `${name}: loads into Simpler` };
      return { version, load: false, text: `${name}: plays results here (loading into Simpler needs Live 12.4+)` };
    }
    async function hasFunction(live, objectPath, name) {
      return new RegExp(`^function ${name}\\b`, "m").test(await live.info(objectPath));
    }
    async function fillPad(live, rack, note) {
      const empty = `Pad ${noteName(note)} is empty`;
      if (!atLeast(await liveVersion(live), REPLACE_SAMPLE_SINCE) || !await hasFunction(live, rack, "insert_chain")) {
        throw new Unloadable("empty_pad", `${empty}: drop any sample on it once`);
      }
      await live.call(rack, "insert_chain");
      const chain = `${rack} chains ${await live.count(rack, "chains") - 1}`;
      if (!await hasFunction(live, chain, "insert_device")) {
        throw new Unloadable("empty_pad", `${empty}: drop any sample on it once`);
      }
      await live.set(chain, "in_note", note);
      await live.call(chain, "insert_device", "Simpler");
      const simpler = await findDevice(live, `${rack} drum_pads ${note} chains 0`, SIMPLER);
      if (!simpler) throw new Unloadable("empty_pad", `${empty}: Live did not put a Simpler on it`);
      return simpler;
    }
    async function findSimpler(live, target, { fill = false } = {}) {
      const track = await thisTrack(live);
      if (target.kind === "simpler") {
        const simpler2 = await findDevice(live, track, SIMPLER);
        if (!simpler2) throw new Unloadable("no_simpler", "No Simpler on this track: add one, or pick the Folder target");
        return simpler2;
      }
      const rack = await findDevice(live, track, DRUM_RACK);
      if (!rack) throw new Unloadable("no_drum_rack", "No Drum Rack on this track: add one, or pick another target");
      const pad = `${rack} drum_pads ${target.note}`;
      if (await live.count(pad, "chains") === 0) {
        if (fill) return fillPad(live, rack, target.note);
        throw new Unloadable("empty_pad", `Pad ${noteName(target.note)} is empty`);
      }
      const simpler = await findDevice(live, `${pad} chains 0`, SIMPLER);
      if (!simpler) throw new Unloadable("no_pad_simpler", `Pad ${noteName(target.note)} holds no Simpler`);
      return simpler;
    }
    async function canReplaceSample(live, simplerPath) {
      return hasFunction(live, simplerPath, "replace_sample");
    }
    async function loadedFile(live, simplerPath) {
      const samplePath = `${simplerPath} sample`;
      try {
        await live.resolve(samplePath);
      } catch {
        return null;
      }
      return await live.get(samplePath, "file_path") || null;
    }
    async function loadSample(live, target, file) {
      const simpler = await findSimpler(live, target, { fill: true });
      if (!await canReplaceSample(live, simpler)) {
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
    async function currentSample(live, target) {
      const simpler = await findSimpler(live, target);
      const file = await loadedFile(live, simpler);
      if (!file) return null;
      const sample = `${simpler} sample`;
      const [start, end, rate, length] = await Promise.all(
        ["start_marker", "end_marker", "sample_rate", "length"].map(async (name) => Number(await live.get(sample, name)))
      );
      const whole = start <= 0 && end >= length;
      if (whole || !(rate > 0 && end > start && start >= 0)) return { file, start: 0, seconds: null };
      return { file, start: start / rate, seconds: (end - start) / rate };
    }
    async function eventually(check) {
      for (const ms of LOAD_CHECKS) {
        await new Promise((resolve) => setTimeout(resolve, ms));
        if (await check()) return true;
      }
      return false;
    }
    async function loadLoopClip(live, file, beats) {
      const ref = /^id (\d+)$/.exec(String(await live.get("live_set view", "highlighted_clip_slot") || ""));
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
      if (!await hasFunction(live, slot, "create_audio_clip")) {
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
      if (!await eventually(async () => Number(await live.get(clip, "warping")) === 1)) {
        throw new Unloadable("not_warped", `Live did not turn on Warp for the clip in ${where}`);
      }
      const [frames, rate] = await Promise.all(["sample_length", "sample_rate"].map(async (n) => Number(await live.get(clip, n))));
      await live.call(clip, "add_warp_marker", { beat_time: beats, sample_time: frames / rate });
      await live.set(clip, "looping", 1);
      await live.set(clip, "loop_end", beats);
      await live.set(clip, "loop_start", 0);
      return where;
    }
    async function songTiming(live) {
      const [tempo, numerator, denominator] = await Promise.all([
        live.get("live_set", "tempo"),
        live.get("live_set", "signature_numerator"),
        live.get("live_set", "signature_denominator")
      ]);
      return { tempo: Number(tempo), numerator: Number(numerator), denominator: Number(denominator) };
    }
    module2.exports = { Unloadable, noteName, trackOf, loadSample, loadLoopClip, currentSample, songTiming, capabilities };
  }
});

// paths.js
var require_paths = __commonJS({
  "paths.js"(exports2, module2) {
    "use strict";
    var fs = require("fs");
    var path = require("path");
    function nativePath(value, platform = process.platform, exists = fs.existsSync) {
      if (typeof value !== "string" || value.trim() === "") return null;
      const text = value.trim();
      if (platform === "win32") return path.win32.isAbsolute(text) ? path.win32.normalize(text) : null;
      const maxStyle = /^([^/:]+):(\/.*)$/.exec(text);
      if (maxStyle) {
        const [, volume, rest] = maxStyle;
        return exists(rest) ? rest : path.posix.join("/Volumes", volume, rest);
      }
      return path.posix.isAbsolute(text) ? path.posix.normalize(text) : null;
    }
    function isFolder(folder) {
      try {
        return fs.statSync(folder).isDirectory();
      } catch {
        return false;
      }
    }
    function isFile(file) {
      try {
        return fs.statSync(file).isFile();
      } catch {
        return false;
      }
    }
    module2.exports = { nativePath, isFolder, isFile };
  }
});

// device.js
var require_device = __commonJS({
  "device.js"(exports2, module2) {
    "use strict";
    var fs = require("fs");
    var path = require("path");
    var { Client, DdbridgeError } = require_client();
    var { RemoteClient, endpointHost } = require_remote();
    var { Live, LiveError } = require_lom();
    var { Unloadable, noteName, loadSample, loadLoopClip, currentSample, songTiming, capabilities } = require_targets();
    var { nativePath, isFolder, isFile } = require_paths();
    var CATEGORIES = ["kick", "snare", "hat", "clap", "perc", "bass", "loop"];
    var PITCHED = /* @__PURE__ */ new Set(["bass"]);
    var TARGETS = ["simpler", "pad", "folder"];
    var UNITS = ["seconds", "bars"];
    var LOOP_BARS = [1, 2, 4];
    var GENRES = ["any", "house", "techno", "hiphop", "trap", "breakbeat", "dnb", "electro"];
    var BEATS_PER_BAR = 4;
    var MAX_SECONDS = 60;
    var MAX_COUNT = 16;
    var BIT_DEPTH = 24;
    var UserError = class extends Error {
    };
    function lengthSeconds(value, unit, timing) {
      if (!(value > 0)) return null;
      if (unit === "seconds") return value;
      const beatsPerBar = timing.numerator * 4 / timing.denominator;
      return value * beatsPerBar * 60 / timing.tempo;
    }
    function clampInt(value, low, high) {
      return Math.min(high, Math.max(low, Math.round(Number(value) || 0)));
    }
    function plural(count, word) {
      return count === 1 ? `1 ${word}` : `${count} ${word}s`;
    }
    function defaultModel(reply) {
      const models = reply && reply.ok && Array.isArray(reply.models) ? reply.models : [];
      return models.find((m) => m.default) || models[0] || null;
    }
    function loopLabel(bars, genre) {
      return `${bars}-bar ${genre === "any" ? "" : `${genre} `}loop`;
    }
    function tuning(file) {
      let metadata;
      try {
        metadata = JSON.parse(fs.readFileSync(file.replace(/\.wav$/i, ".json"), "utf8"));
      } catch {
        return "";
      }
      if (typeof metadata.tuned !== "boolean") return "";
      if (metadata.tuned) return ` \xB7 tuned to ${noteName(metadata.midi_note)}`;
      return ` \xB7 not tuned${String(metadata.tuning).replace(/^not tuned to [^:\s]+/, "")}`;
    }
    function shortFolder(file) {
      const dir = path.dirname(file);
      const at = dir.lastIndexOf(`${path.sep}Samples${path.sep}Generated`);
      return at >= 0 ? dir.slice(at + 1) : dir;
    }
    var Device2 = class {
      /** `outlet(selector, ...args)` and `post(text, level)` reach Max. */
      constructor({ outlet: outlet2, post }) {
        this.outlet = outlet2;
        this.post = post;
        this.client = new Client();
        this.remote = null;
        this.command = null;
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
          genre: "any"
        };
        this.job = null;
        this.lastFiles = [];
        this.capabilities = void 0;
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
            this.settings.sampleRate = hz >= 8e3 && hz <= 192e3 ? hz : null;
          },
          daemon: (port, host) => /^tcp:/.test(String(port)) ? this.setRemote(port) : this.setDaemon(port, host),
          ddbridge_command: joined((value) => this.setCommand(value)),
          generate: () => this.generate(),
          generate_loop: () => this.generateLoop(),
          variate: () => this.variate(),
          cancel: () => this.cancel(),
          lom_result: joined((json) => this.live.receive(json))
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
        if (!folder) return;
        if (!isFolder(folder)) {
          this.settings.folder = null;
          this.status(`Folder not found: ${folder} \u2014 pick the Set's folder again`);
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
          return void 0;
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
          return void 0;
        }
        this.remote = new RemoteClient(endpoint, this.executable());
        this.status(`Remote daemon ${this.remote.host}: sounds are made there and saved in the project folder here`);
        return void 0;
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
          const model = entry ? ` \xB7 model ${entry.name}` : "";
          const loops = entry && entry.loops ? ` \xB7 loops at ${entry.loops.bpm[0]}\u2013${entry.loops.bpm[1]} BPM` : "";
          const live = await this.liveCapabilities();
          if (client !== this.client) return;
          this.outlet("loops", entry && entry.loops ? 1 : 0);
          this.status(`ddbridge ${pong.version} ready${model}${loops}${live}`);
        } catch (error) {
          if (client === this.client) this.fail(error);
        }
      }
      /** " · Live 12.1: plays results here (…)": what this Live allows, said once at load; "" outside Live. */
      async liveCapabilities() {
        if (this.capabilities === void 0) {
          try {
            this.capabilities = (await capabilities(this.live)).text;
          } catch (error) {
            if (!(error instanceof LiveError)) throw error;
            this.capabilities = null;
          }
        }
        return this.capabilities ? ` \xB7 ${this.capabilities}` : "";
      }
      async generate() {
        const { category, count } = this.settings;
        await this.exclusive(plural(count, category), async () => {
          const request = { ...this.output(), op: "generate", category, count };
          const seconds = await this.seconds();
          if (seconds) request.seconds = seconds;
          if (category === "loop") request.loop = true;
          const target = this.targetSpec();
          if (target && target.kind === "pad" && PITCHED.has(category)) request.note = target.note;
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
          const bpm = Math.round(Number(await this.live.get("live_set", "tempo")) * 1e3) / 1e3;
          const loops = await this.loopNetwork();
          const [low, high] = loops.bpm;
          if (!(bpm >= low && bpm <= high)) {
            throw new UserError(`Live's tempo is ${bpm} BPM; the loop network makes loops at ${low}\u2013${high} BPM: set a tempo in that range`);
          }
          if (!loops.bars.includes(bars)) throw new UserError(`The loop network makes ${loops.bars.join(", ")} bars, not ${bars}`);
          if (genre !== "any" && !loops.genres.includes(genre)) {
            throw new UserError(`The loop network has no genre ${genre}: it has ${loops.genres.join(", ")}`);
          }
          const request = { ...this.output(), op: "generate", category: "loop", bpm, bars, count: 1 };
          if (genre !== "any") request.genre = genre;
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
          this.status(`${error.message} \u2014 playing ${name}; drag it in from ${shortFolder(file)}`);
        }
      }
      async variate() {
        await this.exclusive("a variation", async () => {
          const { file: source, start, seconds } = await this.variationSource();
          const { strength, count } = this.settings;
          const request = { ...this.output(), op: "variate", source, strength, count };
          if (start > 0) request.source_start = start;
          if (seconds) request.source_seconds = seconds;
          await this.place(await this.run(request, `Varying ${path.basename(source)}`));
        });
      }
      async cancel() {
        if (this.job && this.job.remote) {
          this.status(`Cancelling ${this.job.label}\u2026`);
          this.job.remote.cancel();
          return;
        }
        if (!this.job || !this.job.id) {
          this.status("Nothing to cancel");
          return;
        }
        try {
          this.status(`Cancelling ${this.job.label}\u2026`);
          await this.client.cancel(this.job.id);
        } catch (error) {
          this.fail(error);
        }
      }
      // -- internals --------------------------------------------------------------------------------
      /** Run `work` unless another request is still running; failures end up in the status line. */
      async exclusive(label, work) {
        if (this.job) {
          this.status(`Still working on ${this.job.label} \u2014 press Cancel to stop it`);
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
        return Math.round(Math.min(seconds, MAX_SECONDS) * 1e3) / 1e3;
      }
      /** Send a job request, show its progress, resolve with its files. */
      async run(request, doing) {
        if (this.remote) return this.runRemote(request, doing);
        const id = this.client.newId();
        this.job.id = id;
        this.status(`${doing}\u2026`);
        this.outlet("progress", 0);
        const files = await this.client.job(
          { ...request, id },
          {
            onProgress: (fraction) => {
              const percent = Math.round(fraction * 100);
              this.outlet("progress", percent);
              this.status(`${doing}\u2026 ${percent}%`);
            }
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
        this.status(`${doing} on ${remote.host}\u2026`);
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
          this.status(`${error.message} \u2014 playing ${name}; drag it in from ${shortFolder(file)}`);
        }
      }
      /**
       * What "Variate current sample" varies, as {file, start, seconds}: a dropped file, the target's
       * sample between its markers, or the last result.
       */
      async variationSource() {
        const { source } = this.settings;
        if (source) {
          this.settings.source = null;
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
    };
    module2.exports = { Device: Device2, CATEGORIES, TARGETS, UNITS, LOOP_BARS, GENRES, lengthSeconds };
  }
});

// ddbridge_node.js
var maxApi = require("max-api");
var { Device } = require_device();
function outlet(selector, ...args) {
  if (selector === "status") return maxApi.outlet("status", ...String(args[0]).split(/\s+/));
  return maxApi.outlet(selector, ...args);
}
var device = new Device({
  outlet,
  post: (text, level) => maxApi.post(text, level === "error" ? maxApi.POST_LEVELS.ERROR : maxApi.POST_LEVELS.INFO)
});
for (const [selector, handler] of Object.entries(device.handlers())) {
  maxApi.addHandler(selector, handler);
}
device.start();
