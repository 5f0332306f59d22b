"use strict";
/**
 * Runs ddbridge_node.js the way Node for Max does, in its own Node process, with the max-api
 * stand-in in place of Node for Max. Stands in for the patcher around it too: `lom` messages go
 * through the device's real [js ddbridge_lom.js] (over a FakeLiveSet) and come back as
 * `lom_result`, as [route lom] -> [prepend request] -> [js ddbridge_lom.js] -> node.script do.
 */

const { spawn } = require("child_process");
const path = require("path");

const M4L = path.join(__dirname, "..");
const SCRIPT = path.join(M4L, "ddbridge_node_bundle.js"); // what the device runs: the bundle
const STAND_IN = path.join(__dirname, "stand-in");

class DeviceProcess {
  /** `live`: a FakeLiveSet, or null for a device whose [js] never answers (Live absent); `env`: more variables. */
  constructor({ live = null, env = {} } = {}) {
    this.live = live;
    this.events = []; // {kind, args, level?, selector?, at}
    this.waiters = [];
    this.exited = null;
    this.lom = live ? live.lomScript((...atoms) => this.send(...atoms)) : null;
    this.child = spawn(process.execPath, [SCRIPT], {
      cwd: M4L,
      env: { ...process.env, ...env, NODE_PATH: STAND_IN },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child.on("message", (event) => this.record(event));
    this.child.on("exit", (code, signal) => {
      this.exited = { code, signal };
      this.wake();
    });
  }

  record(event) {
    this.events.push({ ...event, at: Date.now() });
    if (this.lom && event.kind === "outlet" && event.args[0] === "lom") {
      setImmediate(() => this.lom(event.args[1])); // Max runs the [js] on its own schedule
    }
    this.wake();
  }

  wake() {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** A message into the node.script's inlet, e.g. send("count", 2). */
  send(selector, ...args) {
    this.child.send({ kind: "message", selector, args });
  }

  /** Outlet messages (arrays of atoms) whose selector is `selector`. */
  outlets(selector) {
    return this.events.filter((e) => e.kind === "outlet" && e.args[0] === selector).map((e) => e.args);
  }

  /** The status lines shown so far (the script sends each as words). */
  statuses() {
    return this.outlets("status").map((args) => args.slice(1).join(" "));
  }

  /** LOM operations the script asked for, decoded. */
  lomRequests() {
    return this.outlets("lom").map((args) => JSON.parse(args[1]));
  }

  /** Resolves with the first event from index `from` on that satisfies `test`; rejects after `timeoutMs`. */
  waitFor(test, { from = 0, timeoutMs = 30000, what = "an event" } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(test);
        if (found) {
          done();
          resolve(found);
        } else if (this.exited) {
          done();
          reject(new Error(`the device process exited (${JSON.stringify(this.exited)}) before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms; statuses: ${JSON.stringify(this.statuses())}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }

  /** The first status from index `from` on matching `pattern`. */
  async waitForStatus(pattern, options = {}) {
    const test = (e) => e.kind === "outlet" && e.args[0] === "status" && pattern.test(e.args.slice(1).join(" "));
    const event = await this.waitFor(test, { what: `status matching ${pattern}`, ...options });
    return event.args.slice(1).join(" ");
  }

  /** Point the device at the test daemon and wait until it reports ready. */
  async connect(port) {
    const from = this.events.length;
    this.send("daemon", port);
    await this.waitForStatus(/ready/, { from, timeoutMs: 10000 });
  }

  async stop() {
    if (!this.exited) {
      const gone = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill();
      await gone;
    }
  }
}

module.exports = { DeviceProcess, M4L };
