"use strict";
/**
 * The ddbridge daemon over OSC/UDP (plugin_protocol's OSC map): request ids, replies, progress,
 * files, timeouts.
 *
 * Every request travels as `/ddbridge/request <json>`; the daemon answers on the sender's port
 * (or on a configured reply port, which `replyPort` binds) with `/ddbridge/progress`,
 * `/ddbridge/done` (one per file), `/ddbridge/error` and `/ddbridge/reply <id> <json>`.
 */

const dgram = require("dgram");
const crypto = require("crypto");
const { encodeMessage, decodePacket } = require("./osc");

/** A failure with a protocol error code (plugin_protocol's table), or `not_running` when the daemon is silent. */
class DdbridgeError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "DdbridgeError";
    this.code = code;
  }
}

const DEFAULTS = {
  host: "127.0.0.1",
  port: 9000,
  replyPort: 0,
  answerTimeoutMs: 1500, // the daemon answers every request at once; silence means it is not there
  stallTimeoutMs: 60000, // a job that reports nothing for this long is asked about again
};

class Client {
  /** `options`: host, port, replyPort, answerTimeoutMs, stallTimeoutMs (see DEFAULTS). */
  constructor(options = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.pending = new Map(); // id -> entry
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
        socket.bind(this.options.replyPort, local ? "127.0.0.1" : undefined, () => {
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
  async job(request, { onProgress = () => {} } = {}) {
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
      return; // not OSC: not from the daemon
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
    } // else the job is queued or running: its files follow as /ddbridge/done
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
}

module.exports = { Client, DdbridgeError };
