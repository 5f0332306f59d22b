"use strict";
/**
 * A stand-in for Node for Max's "max-api" module, for running ddbridge_node.js under plain Node.
 *
 * Like Node for Max, the script runs in its own process; this module is its line to "Max", here
 * the test that spawned it over Node's IPC channel:
 *   test -> script: {kind: "message", selector, args}   (a message into the node.script inlet)
 *   script -> test: {kind: "outlet", args} | {kind: "post", args, level} | {kind: "unhandled", selector}
 * It implements exactly the documented members the script uses (addHandler, outlet, post,
 * POST_LEVELS, as in https://docs.cycling74.com/nodeformax/api/); touching any other member throws.
 */

const handlers = new Map();

function send(message) {
  if (process.send) process.send(message);
}

const api = {
  POST_LEVELS: Object.freeze({ ERROR: "error", INFO: "info", WARN: "warn" }),

  addHandler(selector, handler) {
    if (typeof selector !== "string" || typeof handler !== "function") {
      throw new TypeError("addHandler(selector: string, handler: function)");
    }
    handlers.set(selector, handler);
  },

  outlet(...args) {
    send({ kind: "outlet", args });
    return Promise.resolve();
  },

  post(...args) {
    const levels = Object.values(api.POST_LEVELS);
    const level = levels.includes(args[args.length - 1]) && args.length > 1 ? args.pop() : api.POST_LEVELS.INFO;
    send({ kind: "post", args, level });
  },
};

process.on("message", async (message) => {
  if (!message || message.kind !== "message") return;
  const handler = handlers.get(message.selector);
  if (!handler) {
    send({ kind: "unhandled", selector: message.selector });
    return;
  }
  try {
    await handler(...message.args);
  } catch (error) {
    send({ kind: "post", args: [`handler '${message.selector}' threw: ${error.stack}`], level: "error" });
  }
});

module.exports = new Proxy(api, {
  get(target, name) {
    if (Object.prototype.hasOwnProperty.call(target, name)) return target[name];
    throw new Error(`the max-api stand-in does not implement '${String(name)}'`);
  },
});
