"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { encodeMessage, decodePacket } = require("../osc");

// Bytes as python-osc (the daemon's OSC library) builds them.
const PING_P1 = "2f64646272696467652f70696e6700002c730000702d3100";
const DONE =
  "2f64646272696467652f646f6e6500002c737373696900006a0000002f6120622f632e776176000034323934393637" +
  "32393500000000000000000002";
const PROGRESS = "2f64646272696467652f70726f677265737300002c7366006a0000003f000000";

test("requests encode byte for byte as the daemon's OSC library does", () => {
  assert.equal(encodeMessage("/ddbridge/ping", ["p-1"]).toString("hex"), PING_P1);
});

test("the daemon's replies decode to their typed arguments", () => {
  assert.deepEqual(decodePacket(Buffer.from(DONE, "hex")), [
    { address: "/ddbridge/done", args: ["j", "/a b/c.wav", "4294967295", 0, 2] },
  ]);
  assert.deepEqual(decodePacket(Buffer.from(PROGRESS, "hex")), [{ address: "/ddbridge/progress", args: ["j", 0.5] }]);
});

test("every argument type round-trips", () => {
  const args = ["héllo wörld", 7, -2147483648, 0.25, true, false, null, { type: "h", value: 2 ** 40 }];
  const [message] = decodePacket(encodeMessage("/x", args));
  assert.deepEqual(message.args, ["héllo wörld", 7, -2147483648, 0.25, true, false, null, 2 ** 40]);
  // integers beyond int32 cannot go as 'i': they go as float32
  assert.equal(encodeMessage("/x", [2 ** 31]).toString("latin1", 4, 6), ",f");
  assert.deepEqual(decodePacket(encodeMessage("/x", [2 ** 31]))[0].args, [2 ** 31]);
});

test("strings are padded to four bytes with at least one NUL", () => {
  for (const text of ["", "a", "abc", "abcd", "abcde"]) {
    const bytes = encodeMessage("/s", [text]);
    assert.equal(bytes.length % 4, 0);
    assert.deepEqual(decodePacket(bytes)[0].args, [text]);
  }
});

test("bundles are flattened into their messages", () => {
  const a = encodeMessage("/a", [1]);
  const b = encodeMessage("/b", ["x"]);
  const size = (buf) => {
    const s = Buffer.alloc(4);
    s.writeInt32BE(buf.length);
    return s;
  };
  const bundle = Buffer.concat([Buffer.from("#bundle\0"), Buffer.alloc(8), size(a), a, size(b), b]);
  assert.deepEqual(decodePacket(bundle), [
    { address: "/a", args: [1] },
    { address: "/b", args: ["x"] },
  ]);
});

test("malformed packets and arguments are refused", () => {
  const bad = [
    Buffer.from("hello, daemon"),
    Buffer.from("/ddbridge/ping\0\0,i\0\0"), // promises an int it does not carry
    Buffer.from("/x\0\0,q\0\0"), // unknown type tag
    Buffer.from("#bundle\0\0\0\0"), // no time tag
    Buffer.from("/x\0\0x\0\0\0"), // type tags without ','
  ];
  for (const packet of bad) assert.throws(() => decodePacket(packet), Error, packet.toString("latin1"));
  assert.throws(() => encodeMessage("ping", []), /starts with '\/'/);
  assert.throws(() => encodeMessage("/x", ["a\0b"]), /NUL/);
  assert.throws(() => encodeMessage("/x", [{ type: "q", value: 1 }]), /unsupported/);
  assert.throws(() => encodeMessage("/x", [undefined]), TypeError);
});
