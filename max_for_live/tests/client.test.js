"use strict";
/** client.js against the real daemon over real UDP OSC: protocol test vectors, jobs, cancel, silence. */
const test = require("node:test");
const assert = require("node:assert/strict");
const dgram = require("dgram");
const fs = require("fs");
const { Client } = require("../client");
const { run } = require("./vectors");
const { daemon, needsDaemon } = require("./env");

/** A UDP port nothing listens on. */
function freeUdpPort() {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

test("the protocol test vectors pass through the JS client over OSC", needsDaemon, async (t) => {
  const client = new Client({ port: daemon.port });
  t.after(() => client.close());
  const { names, failures } = await run((text, id) => client.sendText(text, id, 60000), daemon.vectorVariables);
  assert.deepEqual(failures, []);
  assert.ok(names.length >= 60, `only ${names.length} vectors ran`);
});

test("a job reports its progress and resolves once every file exists", needsDaemon, async (t) => {
  const client = new Client({ port: daemon.port });
  t.after(() => client.close());
  const progress = [];
  const request = { op: "generate", category: daemon.categories[0], count: 2, steps: 8, pool: false };
  const onProgress = (f) => progress.push(f);
  const files = await client.job({ ...request, project_dir: daemon.projectDir }, { onProgress });
  assert.equal(files.length, 2);
  for (const { path, seed } of files) {
    assert.ok(fs.statSync(path).size > 44, path);
    assert.match(seed, /^\d+$/);
  }
  assert.ok(progress.length >= 2, `progress: ${progress}`);
  assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
  assert.ok(Math.abs(progress[progress.length - 1] - 1) < 1e-6);
});

test("a running job can be cancelled and then rejects as cancelled", needsDaemon, async (t) => {
  const client = new Client({ port: daemon.port });
  t.after(() => client.close());
  const id = client.newId();
  let started;
  const running = new Promise((resolve) => {
    started = resolve;
  });
  const request = { id, op: "generate", category: daemon.categories[0], steps: 1000, pool: false, priority: "batch" };
  const job = client.job({ ...request, project_dir: daemon.projectDir }, { onProgress: () => started() });
  await running;
  assert.equal(await client.cancel(id), "cancelled");
  await assert.rejects(job, (e) => e.code === "cancelled");
});

test("error replies reject a job with the daemon's code and message", needsDaemon, async (t) => {
  const client = new Client({ port: daemon.port });
  t.after(() => client.close());
  await assert.rejects(client.job({ op: "generate", category: "no-such-category" }), (e) => {
    assert.equal(e.code, "bad_request");
    assert.match(e.message, /no-such-category/);
    return true;
  });
  await assert.rejects(client.job({ op: "generate", project_dir: "relative/dir" }), (e) => e.code === "path_refused");
});

test("a configured reply port is where the client listens", needsDaemon, async (t) => {
  const replyPort = await freeUdpPort();
  const client = new Client({ port: daemon.port, replyPort });
  t.after(() => client.close());
  const reply = await client.call({ op: "ping" });
  assert.equal(reply.pong, true);
  assert.equal(client.socket.address().port, replyPort);
});

test("a reply port that is taken is reported, not ignored", async (t) => {
  const replyPort = await freeUdpPort();
  const first = new Client({ replyPort });
  const second = new Client({ replyPort });
  t.after(() => [first, second].forEach((c) => c.close()));
  await first.open();
  const taken = (e) => e.code === "unavailable" && e.message.includes(String(replyPort));
  await assert.rejects(second.call({ op: "ping" }), taken);
});

test("with nothing listening a request fails as not_running, quickly", async (t) => {
  const client = new Client({ port: await freeUdpPort() });
  t.after(() => client.close());
  const started = Date.now();
  const silent = (e) => e.code === "not_running" && /ddbridge serve/.test(e.message);
  await assert.rejects(client.call({ op: "ping" }), silent);
  await assert.rejects(client.job({ op: "generate" }), (e) => e.code === "not_running");
  assert.ok(Date.now() - started < 4000);
});
