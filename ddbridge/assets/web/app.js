// ddbridge's page: job forms, live job progress, the sound library with waveforms, audition and the map.
// Plain browser JavaScript, no dependencies: everything the page needs ships with ddbridge.
"use strict";

const PAGE_SIZE = 300;
const PALETTE = {
  kick: "#ff7a1a", snare: "#4cc2ff", hat_closed: "#ffd23f", hat_open: "#b5e655", clap: "#ff6fb5",
  tom: "#a98bff", perc: "#2fd6c0", bass: "#ff5d5d", pluck: "#6c9dff", loop: "#e58cff",
};
const EXTRA_COLOURS = ["#f4a261", "#90be6d", "#f9c74f", "#43aa8b", "#f8961e", "#577590", "#c77dff"];
const PLAIN_TEMPO = {bpm: [20, 300], bars: [1, 16]};  // the protocol's limits for a model without a loop network

const state = {
  sounds: [],            // library entries, newest first
  byPath: new Map(),
  selected: null,        // path
  playing: null,         // path
  loop: null,            // the loop playing: {path, source (its AudioBufferSourceNode), started, duration}
  pendingLoop: null,     // a loop being fetched and decoded to play
  audio: null,           // the AudioContext loops play in
  op: "generate",
  category: "",          // library filter ("" = all)
  search: "",
  favourites: false,
  showHidden: false,
  view: "list",
  shown: PAGE_SIZE,
  models: [],
  jobs: new Map(),       // id -> {what, state, progress, message, el}
  sources: {source: null, source_a: null, source_b: null},
  mapPoints: [],
  hovered: null,
};

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style") Object.assign(node.style, value);  // CSSOM: the page's CSP allows no inline style
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
};

function colour(category) {
  if (PALETTE[category]) return PALETTE[category];
  let h = 0;
  for (const c of category || "") h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return EXTRA_COLOURS[h % EXTRA_COLOURS.length];
}

function fileUrl(path) { return "/api/file?path=" + encodeURIComponent(path); }

// -- talking to the daemon ----------------------------------------------------------------------

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  let data;
  try { data = await response.json(); } catch { data = {ok: false, error: {code: "internal", message: response.statusText}}; }
  if (!response.ok || data.ok === false) {
    const error = new Error((data.error && data.error.message) || response.statusText);
    error.code = data.error && data.error.code;
    throw error;
  }
  return data;
}

function toast(message, bad = false) {
  const box = $("#toast");
  box.textContent = message;
  box.classList.toggle("bad", bad);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, bad ? 7000 : 3500);
}

function connect() {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/events`);
  socket.addEventListener("open", () => { $("#conn").className = "dot on"; });
  socket.addEventListener("message", (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "hello") loadLibrary();
    else if (data.type === "job") onJobEvent(data);
    else if (data.type === "sounds") addSounds(data.sounds);
  });
  socket.addEventListener("close", () => {
    $("#conn").className = "dot off";
    setTimeout(connect, 1500);
  });
}

async function loadState() {
  const data = await api("/api/state");
  state.models = data.models;
  const def = data.models.find((m) => m.default) || data.models[0];
  $("#status").textContent = `${def ? def.name : "no model"} · ${data.device} · ddbridge ${data.version}`;
  fill($("#f-model"), data.models.map((m) => [m.name, m.name + (m.default ? " (default)" : "")]), def && def.name);
  fill($("#f-sampler"), [["", "model's default"], ...data.samplers.map((s) => [s, s])], "");
  $("#f-project").placeholder = data.default_project_dir;
  updateModel();
}

function fill(select, options, value) {
  select.replaceChildren(...options.map(([v, label]) => el("option", {value: v}, label)));
  if (value !== undefined && value !== null) select.value = value;
}

function selectedModel() {
  return state.models.find((m) => m.name === $("#f-model").value) || state.models[0];
}

function modelLoops() {
  const model = selectedModel();
  return model && model.loops;  // what its loop network makes, when it has one
}

function updateModel() {
  updateCategories();
  updateTempo();
}

function updateCategories() {
  const model = selectedModel();
  const categories = model ? model.categories : [];
  const current = $("#f-category").value;
  const options = [["", "any (unconditioned)"], ...categories.map((c) => [c, c.replace("_", " ")]), ["loop", "loop"]];
  fill($("#f-category"), options, categories.includes(current) ? current : (categories[0] || ""));
}

function updateTempo() {
  const loops = modelLoops();
  const bpm = loops ? loops.bpm : PLAIN_TEMPO.bpm;
  const bars = loops ? [Math.min(...loops.bars), Math.max(...loops.bars)] : PLAIN_TEMPO.bars;
  Object.assign($("#f-bpm"), {min: bpm[0], max: bpm[1]});
  Object.assign($("#f-bars"), {min: bars[0], max: bars[1]});
  $("#f-bpm-range").textContent = bpm.join("–");
  $("#f-bars-range").textContent = loops ? loops.bars.join(", ") : bars.join("–");
  $("#f-bars-list").replaceChildren(...(loops ? loops.bars : []).map((n) => el("option", {value: n})));
  const genres = loops ? loops.genres : [];
  const genre = $("#f-genre").value;
  fill($("#f-genre"), [["any", "any"], ...genres.map((g) => [g, g])], genres.includes(genre) ? genre : "any");
  updateSections();
}

// -- forms --------------------------------------------------------------------------------------

function setOp(op) {
  state.op = op;
  document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.op === op));
  $("#submit").textContent = op[0].toUpperCase() + op.slice(1);
  updateSections();
  showFormError(null);
}

function updateSections() {
  const loop = $("#f-length").value === "loop";
  const genre = loop && state.op === "generate" && Boolean(modelLoops());  // the genre stands in for the category
  document.querySelectorAll("#job-form [class*='for-']").forEach((node) => {
    node.hidden = !node.classList.contains("for-" + state.op);
  });
  const shown = {"oneshot-only": !loop, "loop-only": loop, "genre-only": genre, "category-only": !genre};
  for (const [name, on] of Object.entries(shown)) {
    document.querySelectorAll(`#job-form .${name}`).forEach((n) => { n.hidden = n.hidden || !on; });
  }
  renderSources();
}

function number(id) {
  const value = $(id).value.trim();
  return value === "" ? undefined : Number(value);
}

/** The Note field: a MIDI number as a number, a name as typed (the daemon checks it), blank as undefined. */
function noteField() {
  const text = $("#f-note").value.trim();
  return /^\d+$/.test(text) ? Number(text) : text || undefined;
}

function jobForm() {
  const op = state.op;
  const form = {op};
  const category = $("#f-category").value;
  if (op !== "extend" && category) form.category = category;
  if (op === "generate" || op === "variate" || op === "extend") form.count = number("#f-count");
  const loop = $("#f-length").value === "loop";
  if (op === "variate" && loop) form.loop = true;
  if (op === "generate" && loop) Object.assign(form, {loop: true, bpm: number("#f-bpm"), bars: number("#f-bars")});
  if (op === "generate" && loop && modelLoops()) Object.assign(form, {category: "loop", genre: $("#f-genre").value});
  if (op === "generate" && !loop) Object.assign(form, {seconds: number("#f-seconds"), note: noteField()});
  if (op === "variate") form.strength = Number($("#f-strength").value);
  if (op === "variate" || op === "extend") form.source = sourcePath("source");
  if (op === "extend") form.seconds = number("#f-extend");
  if (op === "interpolate") {
    form.source_a = sourcePath("source_a");
    form.source_b = sourcePath("source_b");
    const n = Math.max(1, Math.min(16, number("#f-steps-between") || 1));
    form.positions = Array.from({length: n}, (_, i) => Math.round(((i + 1) / (n + 1)) * 1000) / 1000);
  }
  form.model = $("#f-model").value || undefined;
  form.sampler = $("#f-sampler").value || undefined;
  form.steps = number("#f-steps");
  form.seed = number("#f-seed");
  form.guidance_scale = number("#f-guidance");
  form.project_dir = $("#f-project").value.trim() || undefined;
  return form;
}

function describe(form) {
  const what = form.genre && form.genre !== "any" ? `${form.genre} loop` : form.category || (form.loop ? "loop" : "sound");
  if (form.op === "generate") return `${form.count || 1} × ${what}` + (form.bpm ? ` at ${form.bpm} BPM` : "");
  if (form.op === "variate") return `${form.count || 1} × variation of ${baseName(form.source)}`;
  if (form.op === "interpolate") return `${form.positions.length} between ${baseName(form.source_a)} and ${baseName(form.source_b)}`;
  return `${form.count || 1} × ${baseName(form.source)} extended`;
}

function baseName(path) { return path ? path.split(/[\\/]/).pop() : "—"; }

async function submitJob(form, what) {
  showFormError(null);
  const button = $("#submit");
  button.disabled = true;
  try {
    const reply = await api("/api/jobs", form);
    trackJob(reply.job, what || describe(form), reply.state);
  } catch (error) {
    showFormError(error.message);
  } finally {
    button.disabled = false;
  }
}

async function soundAction(path, action, body = {}) {
  try {
    const reply = await api(`/api/${action}`, {path, ...body});
    if (reply.job) {
      const label = action === "more" ? `more like ${baseName(path)}` : `regenerate ${baseName(path)}`;
      trackJob(reply.job, label, reply.state);
    }
    return reply;
  } catch (error) {
    toast(error.message, true);
    return null;
  }
}

function showFormError(message) {
  const box = $("#form-error");
  box.hidden = !message;
  box.textContent = message || "";
}

// -- sources (variate, extend, interpolate) -----------------------------------------------------

function sourcePath(slot) {
  const chosen = state.sources[slot];
  if (chosen) return chosen.path;
  return slot === "source" ? state.selected || undefined : undefined;
}

function renderSources() {
  for (const box of document.querySelectorAll(".source")) {
    const slot = box.dataset.slot;
    const chosen = state.sources[slot];
    const path = sourcePath(slot);
    const name = box.querySelector(".source-name");
    if (chosen) name.textContent = (chosen.dropped ? "Dropped: " : "") + chosen.name;
    else if (path) name.textContent = "Selected: " + baseName(path);
    else name.textContent = slot === "source" ? "the selected sound, or drop a file here" : "—";
    box.classList.toggle("set", Boolean(path));
    box.title = path || "";
    const clear = box.querySelector(".clear-source");
    if (clear) clear.hidden = !chosen;
  }
}

async function upload(file) {
  const response = await fetch("/api/upload", {
    method: "POST", headers: {"Content-Type": "application/octet-stream", "X-Filename": file.name}, body: file,
  });
  const data = await response.json();
  if (!response.ok || !data.ok) throw new Error(data.error ? data.error.message : response.statusText);
  state.sources.source = {path: data.source, name: data.name, dropped: true};
  setOp(state.op === "extend" ? "extend" : "variate");
  toast(`${data.name} is the source: pick a strength and press Variate`);
}

function setupDrops() {
  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files");
  window.addEventListener("dragenter", (e) => { if (hasFiles(e)) { depth++; document.body.classList.add("dropping"); } });
  window.addEventListener("dragleave", (e) => {
    if (hasFiles(e) && --depth <= 0) { depth = 0; document.body.classList.remove("dropping"); }
  });
  window.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  window.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    document.body.classList.remove("dropping");
    const file = e.dataTransfer.files[0];
    if (file) upload(file).catch((error) => toast(error.message, true));
  });
}

// -- jobs ---------------------------------------------------------------------------------------

function trackJob(id, what, jobState) {
  const known = state.jobs.get(id);
  if (known) {
    if (what) known.what = what;
    renderJob(known);
    return known;
  }
  const job = {id, what: what || `job ${id.slice(0, 8)}`, state: jobState || "queued", progress: 0, message: ""};
  state.jobs.set(id, job);
  renderJob(job);
  return job;
}

function onJobEvent(event) {
  const job = trackJob(event.job);
  if (event.event === "progress") {
    job.state = "running";
    job.progress = Math.max(job.progress, event.progress);
  } else if (event.event === "done") {
    job.state = "done";
    job.progress = 1;
  } else if (event.event === "error") {
    job.state = event.error.code === "cancelled" ? "cancelled" : "failed";
    job.message = event.error.message;
  }
  renderJob(job);
  if (job.state === "done" || job.state === "cancelled") {
    setTimeout(() => { state.jobs.delete(job.id); job.el && job.el.remove(); renderJobsEmpty(); }, 4000);
  }
}

function renderJob(job) {
  if (!job.el) {
    job.el = el("li", {class: "job", dataset: {job: job.id}},
      el("span", {class: "what"}), el("span", {class: "pct"}),
      el("div", {class: "bar"}, el("span")), el("span", {class: "message"}));
    const cancel = el("button", {type: "button", class: "link cancel", title: "cancel", onclick: () => cancelJob(job)}, "×");
    job.el.querySelector(".pct").after(cancel);
    $("#jobs").prepend(job.el);
  }
  job.el.dataset.state = job.state;
  job.el.dataset.progress = job.progress.toFixed(2);
  job.el.querySelector(".what").textContent = job.what;
  job.el.querySelector(".pct").textContent =
    job.state === "running" || job.state === "done" ? `${Math.round(job.progress * 100)} %` : job.state;
  job.el.querySelector(".bar span").style.width = `${job.progress * 100}%`;
  job.el.querySelector(".message").textContent = job.message;
  job.el.querySelector(".cancel").hidden = job.state === "done" || job.state === "failed" || job.state === "cancelled";
  renderJobsEmpty();
}

function renderJobsEmpty() {
  const empty = $("#jobs .empty");
  if (empty) empty.hidden = state.jobs.size > 0;
}

async function cancelJob(job) {
  try {
    await api(`/api/jobs/${encodeURIComponent(job.id)}/cancel`, {});
  } catch (error) {
    toast(error.message, true);
  }
}

// -- the library --------------------------------------------------------------------------------

async function loadLibrary() {
  try {
    const data = await api("/api/library" + (state.showHidden ? "?hidden=1" : ""));
    state.sounds = data.sounds;
    state.byPath = new Map(data.sounds.map((s) => [s.path, s]));
    renderLibrary();
    if (state.view === "map") loadMap();
  } catch (error) {
    toast(error.message, true);
  } finally {
    if (!document.body.dataset.ready) performance.mark("ddbridge-ready");  // page load, as bench/web_page.py reads it
    document.body.dataset.ready = "1";
  }
}

function addSounds(sounds) {
  const fresh = sounds.filter((s) => !state.byPath.has(s.path));
  for (const s of fresh) state.byPath.set(s.path, s);
  state.sounds = [...fresh.slice().reverse(), ...state.sounds];
  renderLibrary(new Set(fresh.map((s) => s.path)));
  if (state.view === "map") loadMap();
}

function visibleSounds() {
  const words = state.search.toLowerCase().split(/\s+/).filter(Boolean);
  return state.sounds.filter((s) => {
    if (state.category && s.category !== state.category) return false;
    if (state.favourites && !s.favourite) return false;
    if (!words.length) return true;
    const m = s.meta;
    const text = `${s.name} ${s.category} ${m.model} ${m.sampler} ${m.seed} ${s.op} ${s.folder}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

function renderChips() {
  const counts = new Map();
  for (const s of state.sounds) counts.set(s.category, (counts.get(s.category) || 0) + 1);
  const chip = (value, label, n) => el("button", {
    type: "button", class: "chip" + (state.category === value ? " active" : ""), dataset: {category: value},
    onclick: () => { state.category = value; state.shown = PAGE_SIZE; renderLibrary(); },
  }, ...(value ? [el("i", {style: {background: colour(value)}})] : []), `${label} ${n}`);
  const chips = [chip("", "All", state.sounds.length)];
  for (const [category, n] of [...counts.entries()].sort()) chips.push(chip(category, category || "unlabelled", n));
  $("#chips").replaceChildren(...chips);
}

function renderLibrary(fresh = new Set()) {
  renderChips();
  const sounds = visibleSounds();
  const shown = sounds.slice(0, state.shown);
  $("#count").textContent = `${sounds.length} sound${sounds.length === 1 ? "" : "s"}` +
    (sounds.length !== state.sounds.length ? ` of ${state.sounds.length}` : "");
  const list = $("#sounds");
  if (!state.sounds.length) {
    list.replaceChildren(el("li", {class: "empty-library"},
      "No sounds yet. Generate some on the left: they appear here with their waveforms."));
  } else {
    list.replaceChildren(...shown.map((s) => soundRow(s, fresh.has(s.path))));
  }
  $("#more").hidden = state.view !== "list" || sounds.length <= shown.length;
  for (const canvas of list.querySelectorAll("canvas")) drawWave(canvas);
  renderSources();
}

function soundRow(s, fresh) {
  const m = s.meta;
  const when = formatDate(m.created, s.mtime);
  const first = [`seed ${m.seed}`, m.model];
  const seconds = `${(s.peaks.seconds || m.seconds || 0).toFixed(2)} s`;
  const second = [m.sampler && `${m.sampler} × ${m.steps}`, s.op !== "generate" && s.op, m.loop && loopText(m), seconds, when];
  const row = el("li", {
    class: "sound" + (s.path === state.selected ? " selected" : "") + (s.path === state.playing ? " playing" : "") +
      (fresh ? " fresh" : ""),
    draggable: "true",
    dataset: {path: s.path, category: s.category, op: s.op},
    title: s.path,
  },
  el("button", {type: "button", class: "play", title: "play", onclick: (e) => { e.stopPropagation(); select(s.path, true); }},
    s.path === state.playing ? "■" : "▶"),
  el("canvas", {width: "600", height: "88"}),
  el("div", {class: "info"},
    el("span", {class: "name"}, s.name, ...(s.favourite ? [el("span", {class: "star"}, "★")] : [])),
    el("span", {class: "meta"},
      ...(s.category ? [el("span", {class: "badge", style: {background: colour(s.category)}}, s.category)] : []),
      first.filter(Boolean).join(" · ")),
    el("span", {class: "meta"}, second.filter(Boolean).join(" · "))),
  el("div", {class: "actions"},
    action("☆", s.favourite ? "Unfavourite (F)" : "Favourite (F)", () => toggleMark(s, "favourite"), s.favourite ? "on fav" : "fav"),
    action("↻ Regenerate", "make it again from its seed and settings", () => soundAction(s.path, "regenerate")),
    action("≈ More like this", "variations of this sound", () => soundAction(s.path, "more", {strength: 0.5, count: 4})),
    action("▦", "spectrogram", (e) => toggleSpectrogram(s, e.target.closest(".sound")), "spec"),
    action("⤴", "reveal in folder", () => soundAction(s.path, "reveal").then((r) => r && toast(`Shown: ${s.folder}`)), "reveal"),
    action(s.hidden ? "Unhide" : "Hide", "hide from this page (the file stays on disk)", () => toggleMark(s, "hidden"), "hide")));
  row.querySelector(".fav").textContent = s.favourite ? "★" : "☆";
  row.addEventListener("click", () => select(s.path, true));
  row.addEventListener("dragstart", (e) => dragOut(e, s));
  return row;
}

function loopText(m) {
  if (m.bpm === undefined) return "loop";
  const genre = m.genre && m.genre !== "any" ? `${m.genre} ` : "";
  return `${genre}loop · ${m.bpm} BPM · ${m.bars} bar${m.bars === 1 ? "" : "s"}`;
}

function action(label, title, onclick, cls = "") {
  return el("button", {type: "button", class: cls, title, onclick: (e) => { e.stopPropagation(); onclick(e); }}, label);
}

function formatDate(created, mtime) {
  const date = created ? new Date(created) : new Date(mtime * 1000);
  const now = new Date();
  const time = date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
  return date.toDateString() === now.toDateString() ? time : `${date.toLocaleDateString()} ${time}`;
}

function drawWave(canvas, progress) {
  const row = canvas.closest(".sound");
  const s = state.byPath.get(row.dataset.path);
  if (!s || row.dataset.spectrogram) return;
  const ctx = canvas.getContext("2d");
  const {width, height} = canvas;
  const {min, max} = s.peaks;
  const mid = height / 2;
  const step = width / min.length;
  const base = colour(s.category);
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "#1a1f28";
  ctx.fillRect(0, mid, width, 1);
  for (let i = 0; i < min.length; i++) {
    const played = progress !== undefined && i / min.length <= progress;
    ctx.fillStyle = played ? "#ffffff" : base;
    const top = mid - (max[i] / 100) * mid * 0.95;
    const bottom = mid - (min[i] / 100) * mid * 0.95;
    ctx.fillRect(i * step + 0.5, top, Math.max(1, step - 1), Math.max(1, bottom - top));
  }
}

async function toggleSpectrogram(s, row) {
  const canvas = row.querySelector("canvas");
  if (row.dataset.spectrogram) {
    delete row.dataset.spectrogram;
    drawWave(canvas);
    return;
  }
  try {
    const data = await api("/api/spectrogram?path=" + encodeURIComponent(s.path));
    const bytes = Uint8Array.from(atob(data.data), (c) => c.charCodeAt(0));
    const image = new ImageData(data.columns, data.rows);
    for (let r = 0; r < data.rows; r++) {
      for (let c = 0; c < data.columns; c++) {
        const v = bytes[r * data.columns + c] / 255;
        const o = ((data.rows - 1 - r) * data.columns + c) * 4;  // low frequencies at the bottom
        image.data[o] = Math.round(255 * Math.min(1, v * 1.6));
        image.data[o + 1] = Math.round(255 * Math.max(0, v - 0.35) * 1.4);
        image.data[o + 2] = Math.round(255 * (0.25 + 0.5 * v) * (1 - v * 0.6));
        image.data[o + 3] = 255;
      }
    }
    const bitmap = await createImageBitmap(image);
    row.dataset.spectrogram = "1";
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  } catch (error) {
    toast(error.message, true);
  }
}

async function toggleMark(s, mark) {
  const on = !s[mark];
  const reply = await soundAction(s.path, "mark", {mark, on});
  if (!reply) return;
  s[mark] = on;
  if (mark === "hidden" && on && !state.showHidden) {
    const index = visibleSounds().findIndex((x) => x.path === s.path);
    state.sounds = state.sounds.filter((x) => x.path !== s.path);
    state.byPath.delete(s.path);
    if (state.selected === s.path) {
      const next = visibleSounds()[Math.min(index, visibleSounds().length - 1)];
      state.selected = next ? next.path : null;
    }
    toast(`${s.name} is hidden; the file stays on disk`);
  }
  renderLibrary();
}

function dragOut(e, s) {
  const url = new URL(fileUrl(s.path), location.href).href;
  const file = "file://" + (s.path.startsWith("/") ? "" : "/") + s.path.replace(/\\/g, "/").split("/").map(encodeURIComponent).join("/");
  e.dataTransfer.effectAllowed = "copy";
  e.dataTransfer.setData("DownloadURL", `audio/wav:${s.name}:${url}`);
  e.dataTransfer.setData("text/uri-list", file);
  e.dataTransfer.setData("text/plain", s.path);
}

// -- audition -----------------------------------------------------------------------------------

function select(path, play) {
  state.selected = path;
  for (const row of document.querySelectorAll(".sound")) row.classList.toggle("selected", row.dataset.path === path);
  const row = rowFor(path);
  if (row) row.scrollIntoView({block: "nearest"});
  renderSources();
  if (play) playSound(path);
}

function rowFor(path) {
  return [...document.querySelectorAll(".sound")].find((r) => r.dataset.path === path);
}

// One-shots play in the <audio> element. A loop plays as a Web Audio buffer source with loop on, so its
// decoded samples repeat with no gap at the wrap (an <audio loop> element restarts with a gap).

function playSound(path) {
  const player = $("#player");
  const s = state.byPath.get(path);
  if (!s) return;
  stopLoop();
  if (s.meta.loop) {
    player.pause();
    playLoop(s);
  } else {
    const src = new URL(fileUrl(path), location.href).href;
    if (player.src !== src) player.src = src;
    player.currentTime = 0;
    player.play().catch(() => {});  // a newer play() interrupting this one is expected while auditioning
  }
  setPlaying(path);
  $("#now-name").textContent = s.name;
}

async function playLoop(s) {
  const asked = state.pendingLoop = {path: s.path};
  try {
    const context = audioContext(s.meta.sample_rate);  // made or resumed while the click or key is handled
    const response = await fetch(fileUrl(s.path));
    if (!response.ok) throw new Error(`${s.name} cannot be played: ${response.statusText}`);
    const buffer = await context.decodeAudioData(await response.arrayBuffer());
    if (state.pendingLoop !== asked) return;  // another sound was asked for meanwhile
    state.pendingLoop = null;
    const source = new AudioBufferSourceNode(context, {buffer, loop: true});
    source.connect(context.destination);
    source.addEventListener("ended", () => { if (state.loop && state.loop.source === source) stop(); });
    source.start();
    state.loop = {path: s.path, source, started: context.currentTime, duration: buffer.duration};
  } catch (error) {
    if (state.pendingLoop !== asked) return;
    state.pendingLoop = null;
    setPlaying(null);
    toast(error.message, true);
  }
}

function audioContext(rate) {
  // At the file's own rate decoding does not resample, so the wrap stays exact to the sample.
  if (!state.audio || (rate && state.audio.sampleRate !== rate)) {
    if (state.audio) state.audio.close();
    state.audio = new AudioContext(rate ? {sampleRate: rate} : {});
  }
  state.audio.resume();
  return state.audio;
}

function stopLoop() {
  state.pendingLoop = null;
  if (!state.loop) return;
  state.loop.source.stop();
  state.loop = null;
}

function isPlaying() {
  return Boolean(state.playing && (state.loop || state.pendingLoop || !$("#player").paused));
}

function stop() {
  $("#player").pause();
  stopLoop();
  setPlaying(null);
}

function setPlaying(path) {
  const before = state.playing;
  state.playing = path;
  for (const p of [before, path]) {
    const row = p && rowFor(p);
    if (!row) continue;
    row.classList.toggle("playing", p === path);
    row.querySelector(".play").textContent = p === path ? "■" : "▶";
    drawWave(row.querySelector("canvas"));
  }
  $("#play-toggle").textContent = path ? "■" : "▶";
}

function tick() {
  const now = position();
  if (now) {
    const row = rowFor(state.playing);
    if (row && now.duration) drawWave(row.querySelector("canvas"), now.time / now.duration);
    $("#now-time").textContent = `${now.time.toFixed(2)} / ${(now.duration || 0).toFixed(2)} s` + (state.loop ? " ⟳" : "");
  }
  requestAnimationFrame(tick);
}

function position() {
  if (state.loop) {
    const {source, started, duration} = state.loop;
    return {time: (source.context.currentTime - started) % duration, duration};
  }
  const player = $("#player");
  return state.playing && !player.paused ? {time: player.currentTime, duration: player.duration} : null;
}

function move(delta) {
  const sounds = visibleSounds().slice(0, state.shown);
  if (!sounds.length) return;
  const index = sounds.findIndex((s) => s.path === state.selected);
  const next = index < 0 ? 0 : Math.max(0, Math.min(sounds.length - 1, index + delta));
  select(sounds[next].path, true);
}

function onKey(e) {
  const target = e.target;
  if (target.closest && target.closest("input, select, textarea")) return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const s = state.selected && state.byPath.get(state.selected);
  if (e.key === "ArrowDown" || e.key === "j") { e.preventDefault(); move(1); }
  else if (e.key === "ArrowUp" || e.key === "k") { e.preventDefault(); move(-1); }
  else if (e.key === " ") {
    e.preventDefault();
    if (isPlaying()) stop();
    else if (s) playSound(s.path);
    else move(0);
  } else if ((e.key === "f" || e.key === "F") && s) toggleMark(s, "favourite");
  else if ((e.key === "h" || e.key === "H") && s) toggleMark(s, "hidden");
}

// -- the map ------------------------------------------------------------------------------------

async function loadMap() {
  try {
    const data = await api("/api/map");
    state.mapPoints = data.points.filter((p) => state.byPath.has(p.path));
    drawMap();
  } catch (error) {
    toast(error.message, true);
  }
}

function mapGeometry() {
  const canvas = $("#map");
  const rect = canvas.getBoundingClientRect();
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(rect.width * ratio) || canvas.height !== Math.round(rect.height * ratio)) {
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
  }
  const pad = 28;
  return {canvas, rect, ratio, pad, w: rect.width - 2 * pad, h: rect.height - 2 * pad};
}

function drawMap() {
  const {canvas, ratio, pad, w, h} = mapGeometry();
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const visible = new Set(visibleSounds().map((s) => s.path));
  const points = state.mapPoints.filter((p) => visible.has(p.path));
  canvas.dataset.points = String(points.length);
  for (const p of points) {
    const s = state.byPath.get(p.path);
    const x = pad + p.x * w;
    const y = pad + (1 - p.y) * h;
    const active = p.path === state.hovered || p.path === state.selected;
    ctx.beginPath();
    ctx.arc(x, y, active ? 8 : 5.5, 0, Math.PI * 2);
    ctx.fillStyle = colour(s.category);
    ctx.globalAlpha = active ? 1 : 0.85;
    ctx.fill();
    if (active) { ctx.lineWidth = 2; ctx.strokeStyle = "#fff"; ctx.stroke(); }
  }
  ctx.globalAlpha = 1;
  const categories = [...new Set(points.map((p) => state.byPath.get(p.path).category))].sort();
  $("#map-legend").replaceChildren(...categories.map((c) =>
    el("span", {}, el("i", {style: {background: colour(c)}}), c || "unlabelled")));
}

function nearestPoint(e) {
  const {rect, pad, w, h} = mapGeometry();
  const mx = e.clientX - rect.left;
  const my = e.clientY - rect.top;
  const visible = new Set(visibleSounds().map((s) => s.path));
  let best = null;
  let bestD = 14 * 14;
  for (const p of state.mapPoints) {
    if (!visible.has(p.path)) continue;
    const dx = pad + p.x * w - mx;
    const dy = pad + (1 - p.y) * h - my;
    const d = dx * dx + dy * dy;
    if (d < bestD) { best = p; bestD = d; }
  }
  return best;
}

function setView(view) {
  state.view = view;
  $("#view-list").classList.toggle("active", view === "list");
  $("#view-map").classList.toggle("active", view === "map");
  $("#sounds").hidden = view !== "list";
  $("#map-view").hidden = view !== "map";
  $("#more").hidden = true;
  if (view === "map") loadMap();
  else renderLibrary();
}

// -- wiring -------------------------------------------------------------------------------------

function setup() {
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => setOp(b.dataset.op)));
  $("#f-length").addEventListener("change", updateSections);
  $("#f-model").addEventListener("change", updateModel);
  $("#f-strength").addEventListener("input", () => { $("#f-strength-value").textContent = Number($("#f-strength").value).toFixed(2); });
  $("#job-form").addEventListener("submit", (e) => { e.preventDefault(); submitJob(jobForm()); });
  for (const box of document.querySelectorAll(".source")) {
    const use = box.querySelector(".use-selected");
    if (use) use.addEventListener("click", () => {
      if (!state.selected) { toast("Select a sound in the library first", true); return; }
      state.sources[box.dataset.slot] = {path: state.selected, name: baseName(state.selected), dropped: false};
      renderSources();
    });
    const clear = box.querySelector(".clear-source");
    if (clear) clear.addEventListener("click", () => { state.sources[box.dataset.slot] = null; renderSources(); });
  }
  $("#search").addEventListener("input", (e) => { state.search = e.target.value; state.shown = PAGE_SIZE; refreshView(); });
  $("#fav-filter").addEventListener("click", (e) => {
    state.favourites = !state.favourites;
    e.target.setAttribute("aria-pressed", String(state.favourites));
    refreshView();
  });
  $("#hidden-filter").addEventListener("click", (e) => {
    state.showHidden = !state.showHidden;
    e.target.setAttribute("aria-pressed", String(state.showHidden));
    loadLibrary();
  });
  $("#view-list").addEventListener("click", () => setView("list"));
  $("#view-map").addEventListener("click", () => setView("map"));
  $("#more").addEventListener("click", () => { state.shown += PAGE_SIZE; renderLibrary(); });
  $("#play-toggle").addEventListener("click", () => {
    if (isPlaying()) stop();
    else if (state.selected) playSound(state.selected);
  });
  $("#player").addEventListener("ended", () => setPlaying(null));
  const map = $("#map");
  map.addEventListener("mousemove", (e) => {
    const p = nearestPoint(e);
    const path = p ? p.path : null;
    if (path === state.hovered) return;
    state.hovered = path;
    if (path) { state.selected = path; playSound(path); }
    drawMap();
  });
  map.addEventListener("mouseleave", () => { state.hovered = null; drawMap(); });
  map.addEventListener("click", (e) => { const p = nearestPoint(e); if (p) select(p.path, true); });
  window.addEventListener("resize", () => { if (state.view === "map") drawMap(); });
  document.addEventListener("keydown", onKey);
  setupDrops();
  setOp("generate");
  requestAnimationFrame(tick);
  loadState().catch((error) => toast(error.message, true));
  connect();
}

function refreshView() {
  if (state.view === "map") drawMap();
  else renderLibrary();
}

document.addEventListener("DOMContentLoaded", setup);
