#!/usr/bin/env node
"use strict";
/**
 * Builds the device: the Node for Max side bundled into one file (ddbridge_node_bundle.js, with
 * esbuild from this folder's package.json), then ddbridge.amxd from ddbridge.maxpat.
 * One file is what Max lists as the node.script's dependency, so freezing the device or
 * "Collect All and Save" carries the whole Node side.
 *
 * Usage: npm ci && node build.js      (in max_for_live/)
 */

const fs = require("fs");
const path = require("path");

const ENTRY = path.join(__dirname, "ddbridge_node.js");
const BUNDLE = path.join(__dirname, "ddbridge_node_bundle.js");

/** The bundle's text for the current sources (max-api is Node for Max's own module: left external). */
function bundleText() {
  let esbuild;
  try {
    esbuild = require("esbuild");
  } catch {
    throw new Error("esbuild is missing: run `npm ci` in max_for_live/ (scripts/setup.sh --test does)");
  }
  const result = esbuild.buildSync({
    entryPoints: [ENTRY],
    absWorkingDir: __dirname, // module names in the bundle do not depend on where it is built from
    bundle: true,
    platform: "node",
    target: "node16",
    format: "cjs",
    external: ["max-api"],
    write: false,
    logLevel: "warning",
    banner: { js: "// Built by max_for_live/build.js from ddbridge_node.js and its modules: edit those, then rebuild." },
  });
  return result.outputFiles[0].text;
}

function main() {
  fs.writeFileSync(BUNDLE, bundleText());
  process.stdout.write(`wrote ${BUNDLE}\n`);
  require("./build_amxd").main([]);
}

if (require.main === module) main();

module.exports = { bundleText, BUNDLE };
