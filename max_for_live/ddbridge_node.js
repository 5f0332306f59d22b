"use strict";
/**
 * ddbridge for Max for Live: the script of the device's [node.script ddbridge_node.js].
 *
 * It holds the device's logic (device.js) and talks to the ddbridge daemon over OSC/UDP
 * (client.js). Node for Max cannot reach the Live Object Model, so LOM operations leave through
 * the outlet as `lom <json>` for the patcher's [js ddbridge_lom.js] and come back as
 * `lom_result <json>` (lom.js).
 */

const maxApi = require("max-api");
const { Device } = require("./device");

/** Status text leaves as words, so the patcher's message box shows it without quotes. */
function outlet(selector, ...args) {
  if (selector === "status") return maxApi.outlet("status", ...String(args[0]).split(/\s+/));
  return maxApi.outlet(selector, ...args);
}

const device = new Device({
  outlet,
  post: (text, level) => maxApi.post(text, level === "error" ? maxApi.POST_LEVELS.ERROR : maxApi.POST_LEVELS.INFO),
});

for (const [selector, handler] of Object.entries(device.handlers())) {
  maxApi.addHandler(selector, handler);
}

device.start();
