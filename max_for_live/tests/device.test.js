"use strict";
/**
 * ddbridge_node.js as Node for Max runs it (its own process, max-api stand-in), with the
 * patcher's [js ddbridge_lom.js] over a fake Live Set, against the real daemon over UDP OSC.
 */
const test = require("node:test");
const assert = require("node:assert/strict");
const dgram = require("dgram");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { DeviceProcess } = require("./harness");
const { FakeLiveSet, simpler, drumRack, thisDevice } = require("./fake_live");
const { readWav } = require("./wav");
const { daemon, needsDaemon } = require("./env");
const { CATEGORIES } = require("../device");

const generated = (project, category) => path.join(project, "Samples", "Generated", category);
const sidecar = (file) => JSON.parse(fs.readFileSync(file.replace(/\.wav$/, ".json"), "utf8"));

function freeUdpPort() {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** A Live Set whose track holds `devices` and then this device. */
function liveSet(devices, options = {}) {
  const me = thisDevice();
  return new FakeLiveSet({ devices: [...devices, me], me, ...options });
}

/** The device, connected to the test daemon, with `settings` sent as the patcher would. */
async function startDevice(t, live, settings = {}) {
  const device = new DeviceProcess({ live });
  t.after(() => device.stop());
  await device.connect(daemon.port);
  for (const [selector, value] of Object.entries(settings)) device.send(selector, value);
  return device;
}

/** Press a button; resolves with the first status matching `pattern` after it. */
async function press(device, button, pattern, timeoutMs = 60000) {
  const from = device.events.length;
  device.send(button);
  return device.waitForStatus(pattern, { from, timeoutMs });
}

const describeOps = (device) => device.lomRequests().map((r) => [r.op, r.path, r.name].filter(Boolean).join(" "));

test("Generate kick: the file goes into the project folder and this track's Simpler", needsDaemon, async (t) => {
  const live = liveSet([simpler()]);
  const device = await startDevice(t, live, {
    folder: daemon.projectDir,
    samplerate: 44100,
    category: 0,
    count: 1,
    length: 0.25,
    target: 0,
  });
  const status = await press(device, "generate", /^Loaded /);

  assert.equal(live.calls.length, 1);
  const [{ path: simplerPath, name, args }] = live.calls;
  assert.deepEqual([simplerPath, name], ["live_set tracks 0 devices 0", "replace_sample"]);
  const file = args[0];
  assert.equal(path.dirname(file), generated(daemon.projectDir, "kick"));
  assert.match(path.basename(file), /^kick_\d+_s\d+\.wav$/);
  assert.equal(status, `Loaded ${path.basename(file)} into Simpler`);

  const wav = readWav(file);
  assert.equal(wav.sampleRate, 44100);
  assert.equal(wav.bitsPerSample, 24);
  assert.ok(wav.frames > 0 && wav.frames <= 0.25 * 44100 + 1, `${wav.frames} frames`);
  assert.equal(sidecar(file).category, "kick");

  const ops = describeOps(device);
  const probe = ops.indexOf("info live_set tracks 0 devices 0");
  assert.ok(probe >= 0 && probe < ops.indexOf("call live_set tracks 0 devices 0 replace_sample"), ops.join("\n"));
  assert.deepEqual(ops.slice(0, 4), [
    "get live_app major_version", // the version probe at load, then the press
    "get live_app minor_version",
    "get live_app bugfix_version",
    "resolve this_device",
  ]);
  assert.ok(device.statuses().includes("Generating 1 kick…"));
  assert.deepEqual(device.outlets("progress").at(-1), ["progress", 100]);
});

test("Generate snare into a chosen Drum Rack pad", needsDaemon, async (t) => {
  const live = liveSet([drumRack({ 36: [simpler()], 38: [simpler()] })]);
  const device = await startDevice(t, live, { folder: daemon.projectDir, category: 1, target: 1, pad: 38 });
  const status = await press(device, "generate", /^Loaded /);
  assert.equal(live.calls.length, 1);
  const [{ path: where, name, args }] = live.calls;
  assert.equal(where, "live_set tracks 0 devices 0 chains 1 devices 0"); // pad D1's chain, by its canonical path
  assert.equal(name, "replace_sample");
  assert.equal(path.dirname(args[0]), generated(daemon.projectDir, "snare"));
  // A drum keeps its pitch: its pad note only says where it sits.
  const sidecar = JSON.parse(fs.readFileSync(args[0].replace(/\.wav$/, ".json"), "utf8"));
  assert.equal(sidecar.note_asked, undefined);
  assert.equal(status, `Loaded ${path.basename(args[0])} into pad D1`);
  readWav(args[0]);
});

test("Generate bass into a Drum Rack pad asks for the pad's note", needsDaemon, async (t) => {
  const live = liveSet([drumRack({ 36: [simpler()], 38: [simpler()] })]);
  const bass = CATEGORIES.indexOf("bass");
  const device = await startDevice(t, live, { folder: daemon.projectDir, category: bass, target: 1, pad: 38 });
  const status = await press(device, "generate", /^Loaded /);
  const [{ args }] = live.calls;
  // Tuned to its pad's note (MIDI 38: D1 in Live, D2 in ddbridge's names); the status says what was done.
  const sidecar = JSON.parse(fs.readFileSync(args[0].replace(/\.wav$/, ".json"), "utf8"));
  assert.equal(sidecar.note_asked, "D2");
  const said = sidecar.tuned ? "tuned to D1" : `not tuned: ${sidecar.tuning.split(": ").slice(1).join(": ")}`;
  assert.equal(status, `Loaded ${path.basename(args[0])} into pad D1 · ${said}`);
  readWav(args[0]);
});

test("before Live 12.4 the sound plays in the device and the user is told to drag it in", needsDaemon, async (t) => {
  const live = liveSet([simpler({ replaceSample: false })]);
  const device = await startDevice(t, live, { folder: daemon.projectDir, category: 0 });
  const status = await press(device, "generate", /Live 12\.4\+/);
  assert.deepEqual(live.calls, []);
  const [open, play] = device.outlets("player");
  assert.equal(open[1], "open");
  const file = open[2];
  assert.deepEqual(play, ["player", 1]);
  assert.match(status, new RegExp(`playing ${path.basename(file)}; drag it in from Samples/Generated/kick$`));
  assert.equal(readWav(file).channels, 2);
});

test("at load the status line says what this Live allows", needsDaemon, async (t) => {
  const old = await startDevice(t, liveSet([simpler({ replaceSample: false })], { version: [12, 1, 5] }));
  assert.match(old.statuses().at(-1), /ready .* · Live 12\.1\.5: plays results here \(loading into Simpler needs Live 12\.4\+\)$/);
  const current = await startDevice(t, liveSet([simpler()]));
  assert.match(current.statuses().at(-1), / · Live 12\.4\.0: loads into Simpler$/);
});

test("Variate current sample sends the part between the Simpler's markers", needsDaemon, async (t) => {
  const live = liveSet([simpler()]);
  const device = await startDevice(t, live, { folder: daemon.projectDir, category: 0 });
  await press(device, "generate", /^Loaded /);
  const sample = live.lookup("live_set tracks 0 devices 0 sample");
  Object.assign(sample.properties, { sample_rate: 44100, length: 44100, start_marker: 4410, end_marker: 8820 });
  await press(device, "variate", /^Loaded variation_/);
  const meta = sidecar(live.calls[1].args[0]);
  assert.deepEqual([meta.source_start, meta.source_seconds], [0.1, 0.1]);
});

test("the Folder target only saves (in the daemon's folder when none was picked) and plays", needsDaemon, async (t) => {
  const live = liveSet([simpler()]);
  const device = await startDevice(t, live, { category: 0, count: 2, target: 2 });
  const status = await press(device, "generate", /^Saved /);
  const file = device.outlets("player")[0][2];
  assert.equal(path.dirname(file), generated(daemon.defaultProjectDir, "kick"));
  assert.equal(status, `Saved ${path.basename(file)} (+1 more) in Samples/Generated/kick`);
  assert.deepEqual(device.lomRequests().filter((r) => r.path !== "live_app"), []); // only the version, at load
  assert.deepEqual(live.calls, []);
  readWav(file);
});

test("Variate current sample varies what the Simpler holds, or a dropped file", needsDaemon, async (t) => {
  const live = liveSet([simpler()]);
  const device = await startDevice(t, live, { folder: daemon.projectDir, category: 0, strength: 0.4, count: 2 });
  await press(device, "generate", /^Loaded /);
  const original = live.calls[0].args[0];

  const status = await press(device, "variate", /^Loaded variation_/);
  assert.equal(live.calls.length, 2);
  const variation = live.calls[1].args[0];
  assert.equal(path.dirname(variation), generated(daemon.projectDir, "variation"));
  assert.match(status, / into Simpler \(\+1 more\)$/);
  const meta = sidecar(variation);
  assert.equal(meta.op, "variate");
  assert.equal(meta.source, original);
  assert.equal(meta.strength, 0.4);
  assert.ok(device.statuses().includes(`Varying ${path.basename(original)}…`));

  device.send("source", original);
  await press(device, "variate", /^Loaded variation_/);
  assert.equal(sidecar(live.calls[2].args[0]).source, original, "the dropped file, not the Simpler's variation");
});

test("a length in bars follows the Set's tempo", needsDaemon, async (t) => {
  const live = liveSet([], { tempo: 240 }); // one 4/4 bar lasts 1 s
  const device = await startDevice(t, live, { category: 0, length: 1, unit: 1, target: 2 });
  await press(device, "generate", /^Saved /);
  assert.ok(describeOps(device).includes("get live_set tempo"));
  const wav = readWav(device.outlets("player")[0][2]);
  const seconds = wav.frames / wav.sampleRate;
  assert.ok(seconds > 0.5 && seconds <= 1.0 + 1e-6, `${seconds} s`);
});

test("a second press while a request runs is refused, not queued twice", needsDaemon, async (t) => {
  const live = liveSet([simpler()]);
  const device = await startDevice(t, live, { folder: daemon.projectDir, category: 0 });
  const from = device.events.length;
  device.send("generate");
  device.send("generate");
  await device.waitForStatus(/^Still working on 1 kick — press Cancel to stop it$/, { from, timeoutMs: 5000 });
  await device.waitForStatus(/^Loaded /, { from, timeoutMs: 60000 });
  assert.equal(live.calls.length, 1);
});

test("the daemon's errors are shown in the status line", needsDaemon, async (t) => {
  const live = liveSet([simpler()]);
  const device = await startDevice(t, live, { category: 2 }); // the test model has no hats
  const status = await press(device, "generate", /^ddbridge: /);
  assert.match(status, /hat/);
  assert.deepEqual(live.calls, []);
  assert.deepEqual(device.outlets("progress").at(-1), ["progress", 0]);
  assert.match(await press(device, "variate", /^Nothing to vary/, 5000), /drop one on the device/);
});

test("outside Live (no [js] answers) the sound still arrives and plays", needsDaemon, async (t) => {
  const device = await startDevice(t, null, { folder: daemon.projectDir, category: 0 });
  const status = await press(device, "generate", /Live did not answer/);
  const file = device.outlets("player")[0][2];
  assert.match(status, new RegExp(`playing ${path.basename(file)}`));
  readWav(file);
});

// -- Generate loop ------------------------------------------------------------------------------

const loopFrames = (bpm, bars, rate) => Math.round(((bars * 4 * 60) / bpm) * rate);

/** The loop files in the test project so far. */
const loopsSoFar = () => {
  const dir = generated(daemon.projectDir, "loop");
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".wav")) : [];
};

test("Generate loop: Live's tempo, the chosen bars and genre, into the selected clip slot, warped and looped", needsDaemon, async (t) => {
  const live = liveSet([simpler()], { tempo: 124, highlighted: [1, 0] });
  const device = await startDevice(t, live, { folder: daemon.projectDir, bars: 1, genre: 1 }); // 2 bars, house
  assert.match(device.statuses().at(-1), /ready · model tiny · loops at 70–180 BPM · Live 12\.4\.0/);
  assert.deepEqual(device.outlets("loops").at(-1), ["loops", 1]); // the Bars and Genre controls are active
  const status = await press(device, "generate_loop", /^Loaded /);
  assert.ok(device.statuses().includes("Generating a 2-bar house loop at 124 BPM…"));

  const [create, ...rest] = live.calls;
  assert.deepEqual([create.path, create.name], ["live_set tracks 1 clip_slots 0", "create_audio_clip"]);
  const file = create.args[0];
  assert.equal(path.dirname(file), generated(daemon.projectDir, "loop"));
  assert.match(path.basename(file), /^loop_house_124bpm_\d+_s\d+\.wav$/);
  assert.equal(status, `Loaded ${path.basename(file)} into clip slot 1 of 2-Audio: 124 BPM, 2 bars, warped and looped`);

  const wav = readWav(file); // the model's rate: exactly 2 bars at 124 BPM, tagged for Live
  assert.equal(wav.frames, loopFrames(124, 2, wav.sampleRate));
  assert.deepEqual([wav.acid.beats, wav.acid.numerator, wav.acid.denominator, wav.acid.flags & 0x04], [8, 4, 4, 4]);
  assert.ok(Math.abs(wav.acid.tempo - 124) < 1e-3);
  assert.deepEqual(wav.smpl.loops, [{ type: 0, start: 0, end: wav.frames - 1 }]);
  const meta = sidecar(file);
  assert.deepEqual([meta.bpm, meta.bars, meta.genre, meta.loop], [124, 2, "house", true]);

  const clip = "live_set tracks 1 clip_slots 0 clip";
  assert.deepEqual(
    JSON.parse(JSON.stringify(rest.map((c) => [c.path, c.name || c.set, ...(c.args || [c.value])]))),
    [
      [clip, "warping", 1],
      [clip, "add_warp_marker", { beat_time: 8, sample_time: wav.frames / wav.sampleRate }],
      [clip, "looping", 1],
      [clip, "loop_end", 8],
      [clip, "loop_start", 0],
    ],
  );
  assert.deepEqual(live.lookup(clip).warpMarkers, [{ beat_time: 8, sample_time: wav.frames / wav.sampleRate }]);
  const ops = describeOps(device);
  assert.ok(ops.indexOf("get live_set tempo") < ops.indexOf("call live_set tracks 1 clip_slots 0 create_audio_clip"));
});

test("Generate loop by default makes 1 bar of any genre; with no clip slot selected it plays and says why", needsDaemon, async (t) => {
  const live = liveSet([simpler()], { tempo: 100 });
  const device = await startDevice(t, live, { folder: daemon.projectDir });
  const status = await press(device, "generate_loop", /playing/);
  const [[, , file]] = device.outlets("player");
  assert.match(path.basename(file), /^loop_100bpm_\d+_s\d+\.wav$/);
  assert.equal(
    status,
    `No clip slot is selected: click an empty slot of an audio track in Session View — playing ${path.basename(file)}; drag it in from Samples/Generated/loop`,
  );
  assert.deepEqual([sidecar(file).bars, sidecar(file).genre], [1, "any"]);
  assert.equal(readWav(file).frames, loopFrames(100, 1, readWav(file).sampleRate));
  assert.deepEqual(live.calls, []);
});

test("Generate loop at a tempo outside the loop network's range says so and asks for nothing", needsDaemon, async (t) => {
  const live = liveSet([simpler()], { tempo: 60, highlighted: [1, 0] });
  const device = await startDevice(t, live, { folder: daemon.projectDir, genre: 2 });
  const before = loopsSoFar();
  const status = await press(device, "generate_loop", /tempo/, 10000);
  assert.equal(status, "Live's tempo is 60 BPM; the loop network makes loops at 70–180 BPM: set a tempo in that range");
  assert.ok(!device.statuses().some((s) => s.startsWith("Generating")));
  assert.deepEqual([live.calls, device.outlets("player"), loopsSoFar()], [[], [], before]);
});

test("Generate loop with a model without a loop network says so; Bars and Genre are inactive", needsDaemon, async (t) => {
  const live = liveSet([simpler()], { tempo: 124, highlighted: [1, 0] });
  const device = await startDevice(t, live, { folder: daemon.projectDir });
  const from = device.events.length;
  device.send("daemon", daemon.plainPort);
  const ready = await device.waitForStatus(/ready/, { from, timeoutMs: 10000 });
  assert.doesNotMatch(ready, /loops at/);
  assert.deepEqual(device.outlets("loops").at(-1), ["loops", 0]);
  const status = await press(device, "generate_loop", /loop network/, 10000);
  assert.equal(
    status,
    "The daemon's model 'tiny' has no loop network, so it makes no loops at a tempo: start ddbridge serve with a model that has one",
  );
  assert.ok(!device.statuses().some((s) => s.startsWith("Generating")));
  assert.deepEqual([live.calls, device.outlets("player")], [[], []]);
});

test("Generate loop with the daemon down says 'ddbridge is not running' within 2 s", async (t) => {
  const live = liveSet([simpler()], { tempo: 124, highlighted: [1, 0] });
  const device = new DeviceProcess({ live });
  t.after(() => device.stop());
  let from = device.events.length;
  device.send("daemon", await freeUdpPort());
  await device.waitForStatus(/^ddbridge is not running/, { from, timeoutMs: 3000 });
  from = device.events.length;
  const pressed = Date.now();
  device.send("generate_loop");
  const status = await device.waitForStatus(/ddbridge is not running/, { from, timeoutMs: 2500 });
  assert.ok(Date.now() - pressed < 2500);
  assert.match(status, /start it with: ddbridge serve/);
  assert.deepEqual(live.calls, []);
});

test("with the daemon down the device says 'ddbridge is not running' within 2 s and keeps working", async (t) => {
  const device = new DeviceProcess();
  t.after(() => device.stop());
  let from = device.events.length;
  device.send("daemon", await freeUdpPort());
  await device.waitForStatus(/^ddbridge is not running/, { from, timeoutMs: 3000 });

  from = device.events.length;
  const pressed = Date.now();
  device.send("generate");
  const status = await device.waitForStatus(/ddbridge is not running/, { from, timeoutMs: 2000 });
  assert.ok(Date.now() - pressed < 2000);
  assert.match(status, /start it with: ddbridge serve/);

  from = device.events.length;
  device.send("cancel");
  await device.waitForStatus(/^Nothing to cancel$/, { from, timeoutMs: 1000 });
  assert.equal(device.exited, null);
  assert.deepEqual(device.events.filter((e) => e.kind === "unhandled" || e.level === "error"), []);
});

test("settings from Max are checked: a vanished folder and a bad port are reported", async (t) => {
  const device = new DeviceProcess();
  t.after(() => device.stop());
  const gone = path.join(os.tmpdir(), "ddbridge-no-such-set-folder");
  let from = device.events.length;
  device.send("folder", gone);
  const status = await device.waitForStatus(/^Folder not found/, { from, timeoutMs: 5000 });
  assert.equal(status, `Folder not found: ${gone} — pick the Set's folder again`);
  from = device.events.length;
  device.send("daemon", 0);
  await device.waitForStatus(/^Not a UDP port: 0$/, { from, timeoutMs: 5000 });
});
