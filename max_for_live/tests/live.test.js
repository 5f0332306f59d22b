"use strict";
/** The LOM side without the daemon: [js ddbridge_lom.js] over a fake Live Set, lom.js, targets.js. */
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { FakeLiveSet, simpler, drumRack, thisDevice } = require("./fake_live");
const { writeWav } = require("./wav");
const { Live, LiveError } = require("../lom");
const targets = require("../targets");
const { lengthSeconds } = require("../device");
const { nativePath } = require("../paths");

const KICK = "/music/Set Project/Samples/Generated/kick/kick_0001_s1.wav";

/** A Live bridge wired to the real [js] script over `set`, as the patcher wires them. */
function bridge(set, options) {
  let live = null;
  const request = set.lomScript((selector, json) => {
    assert.equal(selector, "lom_result");
    live.receive(json);
  });
  live = new Live((json) => setImmediate(() => request(json)), options);
  return live;
}

function simplerSet(options) {
  const me = thisDevice();
  return new FakeLiveSet({ devices: [simpler(options), me], me });
}

test("the [js] script answers each LOM operation with its seq", () => {
  const set = simplerSet({ file: KICK });
  const answers = [];
  const request = set.lomScript((selector, json) => answers.push([selector, JSON.parse(json)]));
  request(JSON.stringify({ seq: 1, op: "resolve", path: "this_device" }));
  request(JSON.stringify({ seq: 2, op: "get", path: "live_set tracks 0 devices 0", name: "class_name" }));
  request(JSON.stringify({ seq: 3, op: "getcount", path: "live_set tracks 0", name: "devices" }));
  request(JSON.stringify({ seq: 4, op: "get", path: "live_set tracks 0", name: "devices" }));
  request(JSON.stringify({ seq: 5, op: "call", path: "live_set tracks 0 devices 0", name: "crop", args: [] }));
  request(JSON.stringify({ seq: 6, op: "info", path: "live_set tracks 0 devices 0" }));
  const [simplerId, meId] = [set.lookup("live_set tracks 0 devices 0").id, set.lookup("this_device").id];
  assert.deepEqual(answers.slice(0, 5), [
    ["lom_result", { ok: true, value: { id: meId, path: "live_set tracks 0 devices 1", type: "Device" }, seq: 1 }],
    ["lom_result", { ok: true, value: ["OriginalSimpler"], seq: 2 }],
    ["lom_result", { ok: true, value: 2, seq: 3 }],
    ["lom_result", { ok: true, value: ["id", simplerId, "id", meId], seq: 4 }],
    ["lom_result", { ok: true, value: [], seq: 5 }],
  ]);
  assert.match(answers[5][1].value, /^function replace_sample$/m);
  assert.deepEqual(set.calls, [{ path: "live_set tracks 0 devices 0", name: "crop", args: [] }]);
});

test("the [js] script reports what it cannot do instead of failing silently", () => {
  const set = simplerSet();
  const answers = [];
  const request = set.lomScript((_selector, json) => answers.push(JSON.parse(json)));
  request(JSON.stringify({ seq: 1, op: "get", path: "live_set tracks 7", name: "name" }));
  request(JSON.stringify({ seq: 2, op: "fly", path: "live_set" }));
  request("{not json");
  assert.deepEqual(answers[0], { ok: false, error: "no Live object at 'live_set tracks 7'", seq: 1 });
  assert.deepEqual(answers[1], { ok: false, error: "unknown LOM operation 'fly'", seq: 2 });
  assert.equal(answers[2].ok, false);
  assert.equal(answers[2].seq, -1);
});

test("a file is loaded into the Simpler on this track with replace_sample", async () => {
  const set = simplerSet({ file: "/old.wav" });
  const live = bridge(set);
  assert.deepEqual(await targets.currentSample(live, { kind: "simpler" }), { file: "/old.wav", start: 0, seconds: null });
  assert.equal(await targets.loadSample(live, { kind: "simpler" }, KICK), "live_set tracks 0 devices 0");
  assert.deepEqual(set.calls, [{ path: "live_set tracks 0 devices 0", name: "replace_sample", args: [KICK] }]);
  assert.equal((await targets.currentSample(live, { kind: "simpler" })).file, KICK);
});

test("a file is loaded into the Simpler on a Drum Rack pad", async () => {
  const me = thisDevice();
  const set = new FakeLiveSet({ devices: [drumRack({ 38: [simpler()] }), me], me });
  const live = bridge(set);
  const where = await targets.loadSample(live, { kind: "pad", note: 38 }, KICK);
  assert.equal(where, "live_set tracks 0 devices 0 drum_pads 38 chains 0 devices 0");
  const canonical = "live_set tracks 0 devices 0 chains 0 devices 0"; // the pad's chain is the rack's chain 0
  assert.deepEqual(set.calls, [{ path: canonical, name: "replace_sample", args: [KICK] }]);
});

test("without replace_sample (Live before 12.4) nothing is called and the reason is given", async () => {
  const set = simplerSet({ replaceSample: false });
  await assert.rejects(targets.loadSample(bridge(set), { kind: "simpler" }, KICK), (e) => {
    assert.ok(e instanceof targets.Unloadable);
    assert.equal(e.reason, "old_live");
    assert.match(e.message, /Live 12\.4\+/);
    return true;
  });
  assert.deepEqual(set.calls, []);
});

test("missing Simplers, Drum Racks and empty pads are named", async () => {
  const me = thisDevice();
  const bare = new FakeLiveSet({ devices: [me], me });
  const rack = new FakeLiveSet({ devices: [drumRack({ 36: [thisDevice()] }), me], me });
  const cases = [
    [bare, { kind: "simpler" }, "no_simpler", /No Simpler on this track/],
    [bare, { kind: "pad", note: 36 }, "no_drum_rack", /No Drum Rack/],
    [rack, { kind: "pad", note: 37 }, "empty_pad", /Pad C#1 is empty/],
    [rack, { kind: "pad", note: 36 }, "no_pad_simpler", /Pad C1 holds no Simpler/],
  ];
  for (const [set, target, reason, message] of cases) {
    const named = (e) => e.reason === reason && message.test(e.message);
    await assert.rejects(targets.loadSample(bridge(set), target, KICK), named);
  }
  assert.equal(await targets.currentSample(bridge(simplerSet()), { kind: "simpler" }), null); // an empty Simpler
});

test("Variate current sample takes the part between the Simpler's markers", async () => {
  const set = simplerSet({ file: "/loop.wav", markers: [4410, 26460] });
  const part = await targets.currentSample(bridge(set), { kind: "simpler" });
  assert.deepEqual(part, { file: "/loop.wav", start: 0.1, seconds: 0.5 });
});

test("Live 12.4 fills an empty Drum Rack pad: a new chain on the pad's note, a Simpler, the file", async () => {
  const me = thisDevice();
  const set = new FakeLiveSet({ devices: [drumRack({ 36: [simpler()] }, { live12_3: true }), me], me });
  const where = await targets.loadSample(bridge(set), { kind: "pad", note: 38 }, KICK);
  assert.equal(where, "live_set tracks 0 devices 0 drum_pads 38 chains 0 devices 0");
  const rack = "live_set tracks 0 devices 0";
  assert.deepEqual(
    set.calls.map((c) => [c.path, c.name || c.set, ...(c.args || [c.value])]),
    [
      [rack, "insert_chain"],
      [`${rack} chains 1`, "in_note", 38],
      [`${rack} chains 1`, "insert_device", "Simpler"],
      [`${rack} chains 1 devices 0`, "replace_sample", KICK],
    ],
  );
});

test("before Live 12.4 an empty pad is left alone and the reason given", async () => {
  const me = thisDevice();
  const rack = drumRack({}, { live12_3: true, replaceSample: false });
  const set = new FakeLiveSet({ devices: [rack, me], me, version: [12, 3, 1] });
  await assert.rejects(targets.loadSample(bridge(set), { kind: "pad", note: 38 }, KICK), (e) => {
    return e.reason === "empty_pad" && /Pad D1 is empty: drop any sample on it once/.test(e.message);
  });
  assert.deepEqual(set.calls, []);
});

test("a Simpler in multi-sample mode is named and left alone", async () => {
  const set = simplerSet({ file: "/old.wav", multiSample: true });
  await assert.rejects(targets.loadSample(bridge(set), { kind: "simpler" }, KICK), (e) => {
    return e.reason === "multisample" && /multi-sample mode/.test(e.message);
  });
  assert.deepEqual(set.calls, []);
});

test("the Live version says what the device can do", async () => {
  const me = thisDevice();
  const at = (version) => new FakeLiveSet({ devices: [me], me, version });
  assert.equal((await targets.capabilities(bridge(at([12, 4, 0])))).text, "Live 12.4.0: loads into Simpler");
  assert.equal(
    (await targets.capabilities(bridge(at([11, 3, 25])))).text,
    "Live 11.3.25: plays results here (loading into Simpler needs Live 12.4+)",
  );
});

test("a Simpler that does not take the file is reported", async () => {
  const set = simplerSet();
  set.lookup("live_set tracks 0 devices 0").functions.replace_sample = () => null; // accepts the call, loads nothing
  await assert.rejects(targets.loadSample(bridge(set), { kind: "simpler" }, KICK), (e) => e.reason === "not_taken");
});

test("Live that never answers fails within the bridge's timeout", async () => {
  const live = new Live(() => {}, { timeoutMs: 100 });
  const started = Date.now();
  await assert.rejects(live.resolve("this_device"), (e) => e instanceof LiveError && /inside Live/.test(e.message));
  assert.ok(Date.now() - started < 1000);
});

/** A 2 s WAV at 8 kHz: one bar at 120 BPM. */
function oneBar(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddbridge-m4l-loop-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return writeWav(path.join(dir, "loop_120bpm_0001_s1.wav"), { frames: 16000, sampleRate: 8000 });
}

function loopSet(options) {
  const me = thisDevice();
  return new FakeLiveSet({ devices: [me], me, ...options });
}

test("a loop goes into the highlighted clip slot: created, warped, its tempo the file's, looped over its bars", async (t) => {
  const file = oneBar(t);
  const set = loopSet({ highlighted: [1, 2] });
  assert.equal(await targets.loadLoopClip(bridge(set), file, 4), "clip slot 3 of 2-Audio");
  const slot = "live_set tracks 1 clip_slots 2";
  const plain = (value) => JSON.parse(JSON.stringify(value)); // objects made in the [js] sandbox's realm
  assert.deepEqual(
    plain(set.calls.map((c) => [c.path, c.name || c.set, ...(c.args || [c.value])])),
    [
      [slot, "create_audio_clip", file],
      [`${slot} clip`, "warping", 1],
      [`${slot} clip`, "add_warp_marker", { beat_time: 4, sample_time: 2 }], // the file's end on beat 4: 120 BPM
      [`${slot} clip`, "looping", 1],
      [`${slot} clip`, "loop_end", 4],
      [`${slot} clip`, "loop_start", 0],
    ],
  );
  const clip = set.lookup(`${slot} clip`);
  assert.equal(clip.properties.file_path, file);
  // Live turns Warp on later: the marker only takes because the device waited for it
  assert.deepEqual(clip.warpMarkers, [{ beat_time: 4, sample_time: 2 }]);
  assert.deepEqual([clip.properties.warping, clip.properties.looping, clip.properties.loop_end], [1, 1, 4]);
});

test("where a loop cannot go, the reason is given and nothing is created", async (t) => {
  const file = oneBar(t);
  const full = loopSet({ highlighted: [1, 0] });
  full.lookup("live_set tracks 1 clip_slots 0").functions.create_audio_clip(file); // a clip already there
  full.calls.length = 0;
  const cases = [
    [loopSet({ highlighted: null }), "no_slot", /^No clip slot is selected: click an empty slot of an audio track/],
    [loopSet({ highlighted: [0, 1] }), "not_audio", /^1-MIDI is not an audio track/],
    [full, "slot_full", /^The selected clip slot 1 of 2-Audio holds a clip: select an empty one$/],
    [loopSet({ highlighted: [1, 0], version: [12, 0, 1] }), "old_live", /Live 12\.0\.5 and newer can/],
  ];
  for (const [set, reason, message] of cases) {
    await assert.rejects(targets.loadLoopClip(bridge(set), file, 4), (e) => {
      assert.ok(e instanceof targets.Unloadable, String(e));
      assert.equal(e.reason, reason);
      assert.match(e.message, message);
      return true;
    });
    assert.deepEqual(set.calls, [], reason);
  }
});

test("bars follow the Set's tempo and time signature", async () => {
  const me = thisDevice();
  const set = new FakeLiveSet({ devices: [me], me, tempo: 90, numerator: 6, denominator: 8 });
  const timing = await targets.songTiming(bridge(set));
  assert.deepEqual(timing, { tempo: 90, numerator: 6, denominator: 8 });
  assert.equal(lengthSeconds(2, "bars", timing), 4); // 2 bars of 6/8 = 6 quarter notes at 90 bpm
  assert.equal(lengthSeconds(1, "bars", { tempo: 120, numerator: 4, denominator: 4 }), 2);
  assert.equal(lengthSeconds(0.5, "seconds", null), 0.5);
  assert.equal(lengthSeconds(0, "bars", null), null);
});

test("ddbridge_lom.js keeps to the ES5 that Max's classic [js] engine runs", () => {
  const source = fs.readFileSync(require.resolve("../ddbridge_lom.js"), "utf8").replace(/\/\/.*$/gm, "");
  for (const [pattern, what] of [
    [/\b(let|const|class)\s/, "let/const/class"],
    [/=>/, "arrow functions"],
    [/`/, "template literals"],
    [/\.\.\./, "spread"],
  ]) {
    assert.doesNotMatch(source, pattern, what);
  }
});

test("note names, track paths and Max paths", () => {
  assert.deepEqual([0, 36, 37, 60, 127].map(targets.noteName), ["C-2", "C1", "C#1", "C3", "G8"]);
  assert.equal(targets.trackOf("live_set tracks 3 devices 0 chains 1 devices 2"), "live_set tracks 3");
  assert.equal(targets.trackOf("live_set master_track devices 0"), "live_set master_track");
  assert.throws(() => targets.trackOf("live_app"), targets.Unloadable);
  const exists = (p) => p.startsWith("/Users");
  assert.equal(nativePath("Macintosh HD:/Users/me/Set", "darwin", exists), "/Users/me/Set");
  assert.equal(nativePath("Samples:/Kits/Set", "darwin", exists), "/Volumes/Samples/Kits/Set");
  assert.equal(nativePath("C:/Users/me/Set", "win32"), "C:\\Users\\me\\Set");
  assert.equal(nativePath("/home/me/Set Project/", "linux"), "/home/me/Set Project/");
  assert.equal(nativePath("relative/path", "linux"), null);
  assert.equal(nativePath("", "linux"), null);
  assert.equal(nativePath(0, "linux"), null);
});
