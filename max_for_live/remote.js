"use strict";
/**
 * A daemon on another machine, reached through `ddbridge request` (ZeroMQ with CURVE keys from
 * remote.toml): the reply carries the audio and `ddbridge request` writes the files into the
 * project folder here, with the same writer as the daemon. OSC has no authentication and stays on
 * the daemon's own machine, so this is the device's only way to a remote GPU.
 */

const { execFile } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { DdbridgeError } = require("./client");

const QUICK_TIMEOUT_S = 4; // the ping before a job: a silent daemon is reported after RETRIES tries of this
const JOB_TIMEOUT_S = 600; // one try of a job
const RETRIES = 2;

/** `tcp://studio-pc:5555` -> `studio-pc:5555`; null when `value` is not a ZeroMQ TCP endpoint. */
function endpointHost(value) {
  const match = /^tcp:\/\/([^\s/]+:\d{1,5})$/.exec(String(value).trim());
  return match ? match[1] : null;
}

/** The `ddbridge request OP` arguments for a device request (the fields device.js sends over OSC). */
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
    source_seconds: "--source-seconds",
  };
  for (const [field, flag] of Object.entries(flags)) {
    if (request[field] !== undefined && request[field] !== null) args.push(flag, String(request[field]));
  }
  if (request.loop) args.push("--loop");
  if (request.source) args.push(request.source);
  return args;
}

/** Fields of a loop at a tempo, which `ddbridge request generate` has no options for: such a request is sent whole. */
const SENT_WHOLE = ["bpm", "bars", "genre"];

/**
 * The `ddbridge request send FILE` arguments for a request sent as it is (`request send` pings, sends
 * the file's JSON unchanged and, with `--deliver reply`, writes the files into its project_dir here).
 */
function sendArgs(requestFile, endpoint) {
  const args = ["request", "send", requestFile, "--endpoint", endpoint, "--deliver", "reply"];
  args.push("--timeout", String(QUICK_TIMEOUT_S), "--retries", String(RETRIES), "--job-timeout", String(JOB_TIMEOUT_S));
  return args;
}

/** Runs job requests on one remote daemon through the `ddbridge` executable. */
class RemoteClient {
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
      if (!SENT_WHOLE.some((field) => request[field] !== undefined)) return requestArgs(request, this.endpoint);
      const file = path.join(dir, "request.json");
      fs.writeFileSync(file, JSON.stringify({ v: 1, id: `m4l-${path.basename(dir)}`, ...request, wait: true }));
      return sendArgs(file, this.endpoint);
    });
    if (!reply.ok) throw this.explain(reply.error);
    return reply.files.map((f) => ({ path: f.path, seed: String(f.seed) }));
  }

  /** A quick request without fields (`models`, `ping`); resolves with the daemon's reply, ok or not. */
  async call(op) {
    const reply = await this.command(() => ["request", op, "--endpoint", this.endpoint, "--json",
      "--timeout", String(QUICK_TIMEOUT_S), "--retries", String(RETRIES)]);
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
      const timeout = (RETRIES * (JOB_TIMEOUT_S + QUICK_TIMEOUT_S) + 10) * 1000;
      this.child = execFile(this.executable, args, { timeout, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
        this.child = null;
        resolve({ error, stdout, stderr });
      });
    });
  }

  explain(error) {
    const { code, message } = error || { code: "internal", message: "no error in the reply" };
    if (code === "unavailable" && /no reply/.test(message)) {
      if (!message.includes(`of ${QUICK_TIMEOUT_S} s`)) return this.timedOut(); // it answered the ping
      return new DdbridgeError(
        "not_running",
        `No answer from ${this.host}: the daemon is down or unreachable, or it refused this machine's key ` +
          "(check remote.toml and the daemon's allowed clients)"
      );
    }
    return new DdbridgeError(code, message);
  }

  timedOut() {
    return new DdbridgeError("timeout", `No result from ${this.host} within ${(RETRIES * JOB_TIMEOUT_S) / 60} min`);
  }
}

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

module.exports = { RemoteClient, endpointHost, requestArgs, sendArgs };
