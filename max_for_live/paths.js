"use strict";
/** Paths as Max hands them over (opendialog, live.drop, pattr) turned into native absolute paths. */

const fs = require("fs");
const path = require("path");

/**
 * `value` as a native absolute path, or null when it is not one. Max's own style on macOS,
 * "Volume:/Users/me/Set", becomes "/Users/me/Set" on the start-up volume and
 * "/Volumes/Volume/..." on any other.
 */
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

/** Whether `folder` is an existing directory. */
function isFolder(folder) {
  try {
    return fs.statSync(folder).isDirectory();
  } catch {
    return false;
  }
}

/** Whether `file` is an existing file. */
function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

module.exports = { nativePath, isFolder, isFile };
