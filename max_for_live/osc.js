"use strict";
/**
 * OSC 1.0 messages and bundles as bytes: enough of the format for ddbridge's OSC map.
 *
 * Arguments are plain values (string -> s, int32 -> i, other number -> f, boolean -> T/F,
 * null -> N) or explicit {type, value} pairs (s i f h T F N; h is a 64-bit integer). Decoding
 * also reads d, b and S arguments and bundles, which other OSC senders use.
 */

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Bytes of `text` as an OSC string: UTF-8, NUL-terminated, padded to a multiple of 4. */
function oscString(text) {
  const raw = Buffer.from(String(text), "utf8");
  if (raw.includes(0)) throw new Error("OSC strings cannot contain NUL characters");
  return Buffer.concat([raw, Buffer.alloc(4 - (raw.length % 4))]);
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

/** One OSC message as bytes. */
function encodeMessage(address, args = []) {
  if (typeof address !== "string" || !address.startsWith("/")) {
    throw new Error(`an OSC address starts with '/', got ${JSON.stringify(address)}`);
  }
  const items = args.map(typed);
  const tags = "," + items.map((a) => a.type).join("");
  return Buffer.concat([oscString(address), oscString(tags), ...items.map(argBytes)]);
}

class Reader {
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
    this.pos = end + 1 + ((4 - ((end + 1) % 4)) % 4);
    if (this.pos > this.buf.length) throw new Error("truncated OSC string padding");
    return text;
  }

  take(n, read) {
    this.need(n);
    const value = read(this.buf, this.pos);
    this.pos += n;
    return value;
  }
}

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
      r.take((4 - (size % 4)) % 4, () => null);
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

/**
 * The messages in one OSC packet (a message, or a bundle flattened in order).
 * Throws on anything that is not well-formed OSC.
 */
function decodePacket(buf) {
  if (buf.length >= 8 && buf.toString("latin1", 0, 8) === "#bundle\0") {
    const r = new Reader(buf);
    r.pos = 8;
    r.take(8, () => null); // time tag: ddbridge acts on everything at once
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

module.exports = { encodeMessage, decodePacket };
