"use strict";
/**
 * The device with a remote endpoint: jobs run through the real `ddbridge request` against the
 * real test daemon over ZeroMQ with CURVE keys (from remote.toml), and the files land in the
 * device's project folder here, then in the Simpler.
 */
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { DeviceProcess } = require("./harness");
const { FakeLiveSet, simpler, thisDevice } = require("./fake_live");
const { readWav } = require("./wav");
const { daemon, needsDaemon } = require("./env");

/** A fresh folder on "this machine", outside every folder the daemon may write to. */
function localProject(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddbridge-m4l-set-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir`. */
function filesUnder(dir) {
  return fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

/** The device with the remote endpoint set; `profile` is the remote.toml `ddbridge request` reads. */
async function remoteDevice(t, live, profile, settings, command = daemon.remote.cli) {
  const device = new DeviceProcess({ live, env: { DDBRIDGE_REMOTE: profile, DDBRIDGE_COMMAND: command } });
  t.after(() => device.stop());
  await device.connect(daemon.port);
  const from = device.events.length;
  device.send("daemon", daemon.remote.endpoint);
  await device.waitForStatus(/^Remote daemon 127\.0\.0\.1:\d+/, { from });
  for (const [selector, value] of Object.entries(settings)) device.send(selector, value);
  return device;
}

test("remote: the sound is made on the daemon, saved in this project folder and loaded into the Simpler", needsDaemon, async (t) => {
  const me = thisDevice();
  const live = new FakeLiveSet({ devices: [simpler(), me], me });
  const project = localProject(t);
  const device = await remoteDevice(t, live, daemon.remote.allowedProfile, {
    folder: project,
    samplerate: 44100,
    category: 0,
    count: 1,
    length: 0.25,
    target: 0,
  });
  const from = device.events.length;
  device.send("generate");
  const host = daemon.remote.endpoint.replace("tcp://", "");
  assert.equal(await device.waitForStatus(/ on /, { from }), `Generating 1 kick on ${host}…`);
  const status = await device.waitForStatus(/^Loaded /, { from, timeoutMs: 120000 });

  const folder = path.join(project, "Samples", "Generated", "kick");
  const files = filesUnder(folder).filter((f) => f.endsWith(".wav"));
  assert.equal(files.length, 1);
  const file = path.join(folder, files[0]);
  assert.equal(status, `Loaded ${files[0]} into Simpler`);
  assert.deepEqual(
    live.calls.map((c) => [c.path, c.name, c.args[0]]),
    [["live_set tracks 0 devices 0", "replace_sample", file]]
  );
  const wav = readWav(file);
  assert.equal(wav.sampleRate, 44100);
  assert.equal(wav.bitsPerSample, 24);
  assert.equal(JSON.parse(fs.readFileSync(file.replace(/\.wav$/, ".json"), "utf8")).category, "kick");
  assert.ok(!fs.readdirSync(daemon.projectDir, { recursive: true }).some((f) => f.endsWith(files[0])));
});

test("remote: a loop at Live's tempo is made on the daemon (sent whole), saved here and put into the clip slot", needsDaemon, async (t) => {
  const me = thisDevice();
  const live = new FakeLiveSet({ devices: [simpler(), me], me, tempo: 130, highlighted: [1, 1] });
  const project = localProject(t);
  const device = await remoteDevice(t, live, daemon.remote.allowedProfile, { folder: project, bars: 2, genre: 2 });
  const status = await press(device, "generate_loop", /^Loaded /, 120000);
  const generated = path.join(project, "Samples", "Generated");
  const [wavFile] = filesUnder(generated).filter((f) => f.endsWith(".wav"));
  const file = path.join(generated, wavFile);
  assert.match(path.basename(file), /^loop_techno_130bpm_\d+_s\d+\.wav$/);
  assert.equal(status, `Loaded ${path.basename(file)} into clip slot 2 of 2-Audio: 130 BPM, 4 bars, warped and looped`);
  const wav = readWav(file);
  assert.equal(wav.frames, Math.round(((4 * 4 * 60) / 130) * wav.sampleRate));
  assert.deepEqual([wav.acid.beats, Math.round(wav.acid.tempo)], [16, 130]);
  const meta = JSON.parse(fs.readFileSync(file.replace(/\.wav$/, ".json"), "utf8"));
  assert.deepEqual([meta.bpm, meta.bars, meta.genre], [130, 4, "techno"]);
  assert.deepEqual([live.calls[0].name, live.calls[0].args[0]], ["create_audio_clip", file]);
  assert.ok(!fs.readdirSync(daemon.projectDir, { recursive: true }).some((f) => f.endsWith(path.basename(file))));
});

test(
  "remote: a delivered loop lands in Samples/Generated/loop, as a local one does",
  needsDaemon,
  async (t) => {
    assert.ok(daemon, "needs the test daemon");
    const me = thisDevice();
    const live = new FakeLiveSet({ devices: [simpler(), me], me, tempo: 130 });
    const project = localProject(t);
    const device = await remoteDevice(t, live, daemon.remote.allowedProfile, { folder: project, target: 2 });
    await press(device, "generate_loop", /^Saved /, 120000);
    const files = filesUnder(path.join(project, "Samples", "Generated")).filter((f) => f.endsWith(".wav"));
    assert.deepEqual(files.map((f) => path.dirname(f)), ["loop"]);
  }
);

test("remote: a key the daemon refuses gives a clear status line and no file", needsDaemon, async (t) => {
  const live = new FakeLiveSet({ devices: [simpler(), thisDevice()] });
  const project = localProject(t);
  const device = await remoteDevice(t, live, daemon.remote.strangerProfile, { folder: project, target: 0 });
  const from = device.events.length;
  device.send("generate");
  const host = daemon.remote.endpoint.replace("tcp://", "");
  const status = await device.waitForStatus(/^No answer/, { from, timeoutMs: 60000 });
  assert.equal(
    status,
    `No answer from ${host}: the daemon is down or unreachable, or it refused this machine's key ` +
      "(check remote.toml and the daemon's allowed clients)"
  );
  assert.deepEqual(filesUnder(project), []);
  assert.deepEqual(live.calls, []);
  assert.deepEqual(device.outlets("progress").at(-1), ["progress", 0]);
});

test("remote: without a project folder nothing is asked and the user is told to set one", needsDaemon, async (t) => {
  const device = await remoteDevice(t, null, daemon.remote.allowedProfile, {});
  const status = await press(device, "generate", /project folder/);
  assert.match(status, /^Set the project folder first: sounds made on 127\.0\.0\.1:\d+ are saved there$/);
});

test("remote: a missing ddbridge command and a bad address are reported", needsDaemon, async (t) => {
  const project = localProject(t);
  const missing = path.join(project, "no-such-ddbridge");
  const device = await remoteDevice(t, null, daemon.remote.allowedProfile, { folder: project }, missing);
  let from = device.events.length;
  device.send("daemon", "tcp://studio-pc");
  assert.equal(
    await device.waitForStatus(/address/, { from }),
    "Not a remote daemon address: tcp://studio-pc (write tcp://host:port)"
  );
  from = device.events.length;
  device.send("generate");
  assert.match(await device.waitForStatus(/not found/, { from }), /^The ddbridge command was not found \(.*no-such-ddbridge\)/);
  assert.deepEqual(filesUnder(project), []);
});

test("remote: the ddbridge command set in the device is used before DDBRIDGE_COMMAND; a bad one changes nothing", needsDaemon, async (t) => {
  const me = thisDevice();
  const live = new FakeLiveSet({ devices: [simpler(), me], me });
  const project = localProject(t);
  const missing = path.join(project, "no-such-ddbridge");
  const settings = { folder: project, category: 0, count: 1, length: 0.25, target: 0 };
  const device = await remoteDevice(t, live, daemon.remote.allowedProfile, settings, missing);
  let from = device.events.length;
  device.send("ddbridge_command", daemon.remote.cli);
  assert.equal(await device.waitForStatus(/^Remote jobs run/, { from }), `Remote jobs run ${daemon.remote.cli}`);
  from = device.events.length;
  device.send("ddbridge_command", path.join(project, "typo"));
  assert.match(await device.waitForStatus(/not found/, { from }), /^The ddbridge command was not found \(.*typo\)/);
  assert.match(await press(device, "generate", /^Loaded /, 120000), /^Loaded .*\.wav into Simpler$/);
  from = device.events.length;
  device.send("ddbridge_command");
  assert.equal(await device.waitForStatus(/^Remote jobs run/, { from }), `Remote jobs run ${missing}`);
  assert.match(await press(device, "generate", /not found/), /^The ddbridge command was not found \(.*no-such-ddbridge\)/);
});

async function press(device, button, pattern, timeoutMs = 30000) {
  const from = device.events.length;
  device.send(button);
  return device.waitForStatus(pattern, { from, timeoutMs });
}
