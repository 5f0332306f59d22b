-- ddbridge for Ardour: the GUI-free core of the actions.
--
-- Everything an action does except its dialogs and Ardour's import happens here, in plain Lua
-- over libardour's bindings (Session, tracks, playlists, the tempo map), so that it runs the same
-- in Ardour and in the headless interpreter (ardour7-lua). The GUI layer (gui.lua) hands in a
-- `ui` table:
--   ui.ask(dialog)     the answers to a dialog ({title = ..., fields = {LuaDialog widgets}}), nil when cancelled
--   ui.message(text)   shows a message
--   ui.import(path)    Ardour's own import of one file: its whole-file region, or nil and why
--   ui.track           the selected audio track, or nil
--   ui.region          the selected audio region, or nil
--
-- The daemon is reached through `ddbridge request send REQUEST --result-file REPLY ...`, started
-- with io.popen: that command pings the daemon, sends the request unchanged (to a remote daemon
-- with the keys remote.toml names for its endpoint) and writes the reply atomically.
--
-- Loaded with loadfile(<folder>/core.lua)(<folder>); Ardour's action scripts have no `require`.

local folder = ...
local json = assert(loadfile(folder .. "/json.lua"))()

local core = { json = json }

--- Settings and their defaults (the "ddbridge: Settings" action changes them).
core.DEFAULTS = {
  executable = "ddbridge",            -- full path, or a name found on PATH
  endpoint = "tcp://127.0.0.1:5555",  -- the daemon's ZeroMQ address
  connect_timeout = "5",              -- seconds the daemon has to answer a ping
  job_timeout = "300",                -- seconds a job has to deliver its files
}
local SETTING_KEYS = { "executable", "endpoint", "connect_timeout", "job_timeout" }

core.GENRES = { "any", "house", "techno", "hiphop", "trap", "breakbeat", "dnb", "electro" }
core.BARS = { 1, 2, 4 }
core.MAX_COUNT = 16

local CATEGORY_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_%-]*$"
local START_HINT = "Start the daemon in a terminal with:\n\n    ddbridge serve\n\nthen run this action again."
local SETUP_HINT = "Check the ddbridge command and address with the action \"ddbridge: Settings\", "
  .. "and that the daemon is running (ddbridge serve)."

local WINDOWS = os.getenv("OS") == "Windows_NT"
local SEP = WINDOWS and "\\" or "/"

-- Files ------------------------------------------------------------------------------------

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  f:write(text)
  f:close()
  return true
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function join(dir, name)
  return (dir:gsub("[/\\]+$", "")) .. SEP .. name
end

-- Settings ---------------------------------------------------------------------------------

--- The file holding the settings and the last answers to the dialogs: ddbridge.json in Ardour's
-- configuration folder (~/.config/ardour7 on Linux).
function core.settings_path()
  return join(ARDOUR.user_config_directory(-1), "ddbridge.json")
end

--- The settings: defaults, overridden by the settings file; `last` holds the last dialog answers.
function core.load_settings()
  local settings = { last = {} }
  for key, value in pairs(core.DEFAULTS) do settings[key] = value end
  local text = read_file(core.settings_path())
  local ok, stored = pcall(json.decode, text or "{}")
  if ok and type(stored) == "table" then
    for _, key in ipairs(SETTING_KEYS) do
      if type(stored[key]) == "string" and stored[key] ~= "" then settings[key] = stored[key] end
    end
    if type(stored.last) == "table" then settings.last = stored.last end
  end
  return settings
end

--- Write the settings file.
function core.save_settings(settings)
  local out = { last = json.as_object(settings.last or {}) }
  for _, key in ipairs(SETTING_KEYS) do out[key] = settings[key] end
  local ok, err = write_file(core.settings_path(), json.encode(out))
  if not ok then return nil, "Cannot write the settings file " .. core.settings_path() .. ": " .. tostring(err) end
  return true
end

--- A timeout setting in seconds, or nil and why it is not one.
function core.seconds(settings, key)
  local value = tonumber(settings[key])
  if not value or value <= 0 then
    return nil, string.format("The setting '%s' must be a positive number of seconds, not '%s'.", key, tostring(settings[key]))
  end
  return value
end

-- The command line ---------------------------------------------------------------------------

--- One argument quoted for the shell io.popen starts (sh on Linux and macOS, cmd.exe on Windows).
-- Characters a command line cannot carry the same way everywhere are refused.
function core.quote(arg)
  arg = tostring(arg)
  if arg:find("[%c]") then
    error(string.format("cannot pass '%s' on a command line: it contains a control character", arg:gsub("%c", "?")), 0)
  end
  if WINDOWS then
    local bad = arg:match('["%%]')
    if bad then error(string.format("cannot pass '%s' on a command line: it contains '%s'", arg, bad), 0) end
    return '"' .. arg:gsub("(\\+)$", "%1%1") .. '"'
  end
  return "'" .. arg:gsub("'", "'\\''") .. "'"
end

--- The command line for a list of arguments, with the command's output and errors captured.
function core.command_line(args)
  local quoted = {}
  for i, arg in ipairs(args) do quoted[i] = core.quote(arg) end
  local line = table.concat(quoted, " ") .. " 2>&1"
  if WINDOWS then line = '"' .. line .. '"' end -- cmd.exe /c strips one pair of outer quotes
  return line
end

--- The full path of the ddbridge command, or nil and how to fix it.
function core.find_executable(settings)
  local name = settings.executable
  if name:find("[/\\]") then
    if exists(name) then return name end
    return nil, string.format("The ddbridge command '%s' does not exist.", name)
  end
  local suffixes = WINDOWS and { ".exe", ".cmd", ".bat", "" } or { "" }
  for dir in (os.getenv("PATH") or ""):gmatch(WINDOWS and "[^;]+" or "[^:]+") do
    for _, suffix in ipairs(suffixes) do
      local candidate = join(dir, name .. suffix)
      if exists(candidate) then return candidate end
    end
  end
  return nil, string.format("The ddbridge command '%s' was not found on Ardour's PATH.", name)
end

local function temp_dir()
  local dir = os.getenv("TMPDIR") or os.getenv("TEMP") or os.getenv("TMP") or (WINDOWS and "C:\\Windows\\Temp" or "/tmp")
  return (dir:gsub("[/\\]+$", ""))
end

local counter = 0
local instance = (tostring({}):match("0x(%x+)") or tostring(math.random(0, 0xffffff))):sub(-8)

--- A fresh request id (also names the request's temporary files).
function core.new_id()
  counter = counter + 1
  return string.format("ardour-%d-%s-%d", os.time(), instance, counter)
end

--- Send one request and wait for the daemon's reply.
-- Returns the reply (ok or not: a daemon that is down gives an "unavailable" error reply), or nil
-- and a text when there is no reply at all (the command is missing or failed).
function core.send(settings, message)
  message.v = message.v or 1
  message.id = message.id or core.new_id()
  local executable, problem = core.find_executable(settings)
  if not executable then return nil, problem end
  local connect, bad_connect = core.seconds(settings, "connect_timeout")
  local job, bad_job = core.seconds(settings, "job_timeout")
  if not (connect and job) then return nil, bad_connect or bad_job end

  local base = join(temp_dir(), "ddbridge-" .. message.id)
  local request_path, reply_path = base .. ".request.json", base .. ".reply.json"
  local written, err = write_file(request_path, json.encode(message))
  if not written then return nil, "Cannot write the request file: " .. tostring(err) end
  local ok, cmd = pcall(core.command_line, {
    executable, "request", "send", request_path,
    "--result-file", reply_path,
    "--endpoint", settings.endpoint,
    "--timeout", connect, "--retries", 1,
    "--job-timeout", job,
  })
  if not ok then
    os.remove(request_path)
    return nil, cmd
  end
  local output = ""
  local pipe = io.popen(cmd, "r")
  if pipe then
    output = pipe:read("a") or ""
    pipe:close()
  end
  os.remove(request_path)
  local text = read_file(reply_path)
  if not text then
    return nil, "The ddbridge command gave no reply.\n\n" .. output:sub(1, 2000) .. "\n\nCommand: " .. cmd
  end
  os.remove(reply_path)
  local decoded, reply = pcall(json.decode, text)
  if not decoded or type(reply) ~= "table" then return nil, "ddbridge sent a reply that is not JSON: " .. tostring(reply) end
  return reply
end

--- The text to show for an error reply.
function core.describe_error(settings, err)
  local code = type(err) == "table" and err.code or "unknown"
  local message = type(err) == "table" and tostring(err.message) or "no details"
  if code == "unavailable" then
    return "ddbridge did not answer at " .. settings.endpoint .. ":\n" .. message .. "\n\n" .. START_HINT
      .. "\n\nIf it is running but busy with long jobs, raise \"Seconds for a sound\" in \"ddbridge: Settings\"."
  end
  return string.format("ddbridge could not do it (%s):\n\n%s", code, message)
end

--- Send a request; the daemon's ok reply, or nil (and its error reply, if any) after telling the user why.
local function answered(settings, ui, message)
  local reply, failure = core.send(settings, message)
  if not reply then
    ui.message(failure .. "\n\n" .. SETUP_HINT)
    return nil
  end
  if reply.ok ~= true then
    ui.message(core.describe_error(settings, reply.error))
    return nil, reply
  end
  return reply
end

--- Send a job request; its files, or nil after telling the user why there are none.
function core.fetch(settings, ui, message)
  local reply, failed = answered(settings, ui, message)
  if not reply then return nil, failed end
  if type(reply.files) ~= "table" or #reply.files == 0 then
    ui.message("ddbridge answered without files.")
    return nil, reply
  end
  for _, file in ipairs(reply.files) do
    if type(file) ~= "table" or type(file.path) ~= "string" or not exists(file.path) then
      ui.message("ddbridge answered with a file that is not there: " .. tostring(type(file) == "table" and file.path))
      return nil, reply
    end
  end
  return reply.files, reply
end

-- The session ------------------------------------------------------------------------------

--- The playhead, in samples.
function core.playhead(session)
  return session:transport_sample()
end

--- The tempo (quarter notes per minute) and meter at a position of the session's tempo map.
function core.tempo_at(sample)
  local map = Temporal.TempoMap.read()
  local pos = Temporal.timepos_t(sample)
  local bpm = map:quarters_per_minute_at(pos)
  local meter = map:meter_at(pos)
  return math.floor(bpm * 1000 + 0.5) / 1000, meter:divisions_per_bar(), meter:note_value()
end

-- The fields every job request carries: files go to <session folder>/Samples/Generated/<name>/,
-- written at the session's sample rate (so Ardour's import has nothing to convert).
local function job_fields(session, op, fields)
  fields.op, fields.wait, fields.priority = op, true, "interactive"
  fields.project_dir = session:path()
  fields.sample_rate = session:nominal_sample_rate()
  return fields
end

local function audio_track(route)
  if not route or route:isnil() then return nil end
  local track = route:to_track()
  if track:isnil() or track:to_audio_track():isnil() then return nil end
  return track
end

--- The first audio track in a route list, or nil.
function core.first_audio_track(routes)
  for route in routes:iter() do
    local track = audio_track(route)
    if track then return track end
  end
  return nil
end

--- The track holding a region, or nil.
function core.track_of(session, region)
  local id = region:to_stateful():id()
  for route in session:get_tracks():iter() do
    local track = audio_track(route)
    if track and not track:playlist():region_by_id(id):isnil() then return track end
  end
  return nil
end

local function new_track(session, name, channels)
  local outputs = channels
  local master = session:master_out()
  if not master:isnil() then outputs = master:n_inputs():n_audio() end
  local list = session:new_audio_track(channels, outputs, nil, 1, name,
    ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true, false)
  if list:empty() then error("Ardour could not add a track", 0) end
  return list:front()
end

--- Put files into the session as one undo step.
-- `placements` lists { path = ..., track = a track or nil (a new one named `track_name`), position = sample,
-- after = true to start where the previous placement on the same track ended }.
-- Every file goes through ui.import (Ardour's import) first; nothing is placed unless all arrive.
function core.place(session, ui, placements, undo_name)
  local regions = {}
  for i, p in ipairs(placements) do
    local region, problem = ui.import(p.path)
    if not region then
      ui.message("Ardour could not import " .. p.path .. (problem and (":\n\n" .. problem) or ""))
      return nil
    end
    regions[i] = region
  end
  session:begin_reversible_command(undo_name)
  local ok, err = pcall(function()
    local tracks, ends, playlists, order = {}, {}, {}, {}
    for i, p in ipairs(placements) do
      local region = regions[i]
      local track = p.track
      if not track then
        local key = p.new_track or i
        tracks[key] = tracks[key] or new_track(session, p.track_name, region:to_audioregion():n_channels())
        track = tracks[key]
      end
      local key = track:to_stateful():id():to_s()
      local position = p.position
      if p.after and ends[key] then position = ends[key] end
      local playlist = track:playlist()
      if not playlists[key] then
        playlist:to_stateful():clear_changes()
        playlists[key] = playlist
        order[#order + 1] = key
      end
      local copy = ARDOUR.RegionFactory.clone_region(region, true, false)
      playlist:add_region(copy, Temporal.timepos_t(position), 1, false)
      ends[key] = position + copy:length():samples()
      p.placed_track, p.placed_position = track, position
    end
    for _, key in ipairs(order) do -- one change per playlist, all in the one undo step
      session:add_stateful_diff_command(playlists[key]:to_statefuldestructible())
    end
  end)
  if not ok then
    session:abort_reversible_command()
    ui.message("ddbridge could not place the sounds: " .. tostring(err))
    return nil
  end
  session:commit_reversible_command(nil)
  return placements
end

-- Dialog answers -------------------------------------------------------------------------

local function trim(s) return (tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", "")) end

local function check_category(category)
  category = trim(category)
  if not category:match(CATEGORY_PATTERN) then
    return nil, string.format("'%s' is not a category name (letters, digits, '-' and '_').", category)
  end
  return category
end

local function check_count(count)
  local n = tonumber(count)
  if not n or n ~= math.floor(n) or n < 1 or n > core.MAX_COUNT then
    return nil, string.format("How many must be a whole number from 1 to %d, not '%s'.", core.MAX_COUNT, tostring(count))
  end
  return math.tointeger(n)
end

local function check_seconds(seconds)
  if seconds == nil or trim(seconds) == "" then return 0 end
  local s = tonumber(seconds)
  if not s or s < 0 or s > 60 then return nil, string.format("The length must be 0 to 60 seconds, not '%s'.", tostring(seconds)) end
  return s
end

local function check_strength(strength)
  local s = tonumber(strength)
  if not s or s <= 0 or s > 1 then return nil, string.format("The strength must be above 0 and at most 1, not '%s'.", tostring(strength)) end
  return s
end

-- The options of an action: the ones its Script Manager slot fixes (`params`), the others asked.
-- `fields` are LuaDialog widgets whose `key` names the option (widgets without a key only label the
-- dialog); `check[key]` validates an answer. The answers are remembered under `memo` .. key.
local function options(settings, ui, title, params, fields, check, memo)
  local asked, labels = {}, {}
  for _, field in ipairs(fields) do
    if field.key == nil then
      labels[#labels + 1] = field
    else
      local fixed = params and params[field.key]
      if fixed == nil or trim(fixed) == "" then asked[#asked + 1] = field end
    end
  end
  local answers = {}
  if #asked > 0 then
    local dialog = {}
    for _, field in ipairs(labels) do dialog[#dialog + 1] = field end
    for _, field in ipairs(asked) do dialog[#dialog + 1] = field end
    answers = ui.ask({ title = title, fields = dialog })
    if not answers then return nil end -- cancelled: nothing happens
  end
  local out = {}
  for _, field in ipairs(fields) do
    local key = field.key
    if key ~= nil then
      local value = answers[key]
      if value == nil then value = params and params[key] end
      local checker = check[key]
      if checker then
        local good, problem = checker(value)
        if good == nil then
          ui.message(problem)
          return nil
        end
        value = good
      end
      out[key] = value
      if answers[key] ~= nil then settings.last[memo .. key] = value end
    end
  end
  if #asked > 0 then core.save_settings(settings) end
  return out
end

local function check_choice(value, choices)
  value = trim(value)
  for _, choice in ipairs(choices) do
    if value == choice then return value end
  end
  return nil, string.format("'%s' is not one of: %s.", value, table.concat(choices, ", "))
end

local function dropdown(values)
  local out = {}
  for _, v in ipairs(values) do out[tostring(v)] = v end
  return out
end

local WHERE_TRACK, WHERE_NEW = "one after another (on the selected track, or a new one)", "each on a new track"

-- Generate at playhead ----------------------------------------------------------------------

--- Everything "Generate at playhead" does before Ardour's import: the options (asked or fixed by
-- the slot's parameters), the request and its files, and where each file goes.
-- Returns { request, files, placements, undo } or nil (cancelled, or the user was told why).
function core.generate_job(session, ui, params)
  local settings = core.load_settings()
  local last = settings.last
  local fields = {
    { type = "entry", key = "category", title = "Category (kick, snare, hat, clap, bass...)", default = last["generate.category"] or "kick" },
    { type = "number", key = "count", title = "How many", min = 1, max = core.MAX_COUNT, step = 1, digits = 0,
      default = tonumber(last["generate.count"]) or 1 },
    { type = "number", key = "seconds", title = "Length in seconds (0: the model's own)", min = 0, max = 60, step = 0.1,
      digits = 2, default = tonumber(last["generate.seconds"]) or 0 },
    { type = "dropdown", key = "where", title = "Several sounds go",
      values = { [WHERE_TRACK] = "after", [WHERE_NEW] = "tracks" },
      default = last["generate.where"] == "tracks" and WHERE_NEW or WHERE_TRACK },
  }
  local check = { category = check_category, count = check_count, seconds = check_seconds,
    where = function(v) return check_choice(v, { "after", "tracks" }) end }
  local opts = options(settings, ui, "ddbridge: generate at the playhead", params, fields, check, "generate.")
  if not opts then return nil end
  local request = job_fields(session, "generate", { category = opts.category, count = opts.count })
  if opts.seconds > 0 then request.seconds = opts.seconds end
  local position = core.playhead(session)
  local files = core.fetch(settings, ui, request)
  if not files then return nil end
  local placements = {}
  for i, file in ipairs(files) do
    local p = { path = file.path, position = position, track_name = opts.category }
    if opts.where == "tracks" then
      p.new_track = i -- each on a new track of its own
    elseif ui.track then
      p.track, p.after = ui.track, true
    else
      p.new_track, p.after = "all", true -- no track selected: one new track, one after another
    end
    placements[i] = p
  end
  return { request = request, files = files, placements = placements, undo = "ddbridge: generate " .. opts.category }
end

--- Generate at the playhead: onto the selected audio track (or a new one), as one undo step.
function core.generate(session, ui, params)
  local job = core.generate_job(session, ui, params)
  if not job then return nil end
  return core.place(session, ui, job.placements, job.undo), job
end

-- Generate loop at session tempo ------------------------------------------------------------

--- The default model's loop network, as the daemon's `models` reply lists it: { genres = {...},
-- bpm = { low, high }, bars = {...} } and the model's name; or nil after telling the user why there
-- is none (the daemon is down, or its model has no loop network and so makes no loops at a tempo).
function core.loop_network(settings, ui)
  local reply = answered(settings, ui, { op = "models" })
  if not reply then return nil end
  local models = type(reply.models) == "table" and reply.models or {}
  local model = models[1]
  for _, m in ipairs(models) do
    if m.default == true then model = m end
  end
  if type(model) ~= "table" then
    ui.message("ddbridge serves no model.")
    return nil
  end
  local loops = model.loops
  if type(loops) ~= "table" or type(loops.bpm) ~= "table" or type(loops.bars) ~= "table" then
    ui.message(string.format("The daemon's model '%s' has no loop network, so it makes no loops at a tempo.\n\n"
      .. "Start ddbridge serve with a model that has one, then run this action again.", tostring(model.name)))
    return nil
  end
  return loops, model.name
end

--- Everything "Generate loop at session tempo" does before Ardour's import: N bars at the tempo
-- map's tempo at the playhead, of a genre. The daemon's loop network is asked for first: without
-- one, or with the tempo outside its range, the user is told so and nothing else happens.
-- Returns a job as generate_job does, or nil.
function core.loop_job(session, ui, params)
  local settings = core.load_settings()
  local last = settings.last
  local position = core.playhead(session)
  local bpm, beats, note = core.tempo_at(position)
  local loops = core.loop_network(settings, ui)
  if not loops then return nil end
  local low, high = loops.bpm[1], loops.bpm[2]
  if bpm < low or bpm > high then
    ui.message(string.format("The tempo at the playhead is %g BPM; the loop network makes loops at %g to %g BPM.\n\n"
      .. "Set a tempo in that range, then run this action again.", bpm, low, high))
    return nil
  end
  local genres, bars = { "any" }, {}
  for _, g in ipairs(type(loops.genres) == "table" and loops.genres or {}) do genres[#genres + 1] = g end
  for i, b in ipairs(loops.bars) do bars[i] = math.tointeger(b) or b end
  local function known(list, value)
    for _, v in ipairs(list) do
      if tostring(v) == tostring(value) then return v end
    end
    return nil
  end
  local fields = {
    { type = "heading", title = string.format("Tempo at the playhead: %g BPM, %d/%d", bpm, beats, note) },
    { type = "dropdown", key = "genre", title = "Genre", values = dropdown(genres),
      default = known(genres, last["loop.genre"]) or "any" },
    { type = "dropdown", key = "bars", title = "Bars", values = dropdown(bars),
      default = tostring(known(bars, last["loop.bars"]) or bars[1]) },
    { type = "number", key = "count", title = "How many", min = 1, max = core.MAX_COUNT, step = 1, digits = 0,
      default = tonumber(last["loop.count"]) or 1 },
  }
  local check = {
    count = check_count,
    bars = function(v)
      local n = known(bars, math.tointeger(tonumber(v)))
      if not n then
        local list = {}
        for i, b in ipairs(bars) do list[i] = tostring(b) end
        return nil, string.format("Bars must be %s, not '%s'.", table.concat(list, ", "), tostring(v))
      end
      return n
    end,
    genre = function(v) v = trim(v) if v == "" then return "any" end return v end,
  }
  local opts = options(settings, ui, "ddbridge: generate a loop at the session tempo", params, fields, check, "loop.")
  if not opts then return nil end
  local request = job_fields(session, "generate", { category = "loop", bpm = bpm, bars = opts.bars, count = opts.count })
  if opts.genre ~= "any" then request.genre = opts.genre end -- no genre: any
  local files = core.fetch(settings, ui, request)
  if not files then return nil end
  local placements = {}
  for i, file in ipairs(files) do
    placements[i] = { path = file.path, position = position, track_name = "loop " .. opts.genre }
    if ui.track then
      placements[i].track, placements[i].after = ui.track, true
    else
      placements[i].new_track, placements[i].after = "all", true
    end
  end
  return { request = request, files = files, placements = placements, undo = "ddbridge: loop " .. opts.genre }
end

--- Generate N bars at the session's tempo at the playhead, as one undo step.
function core.loop(session, ui, params)
  local job = core.loop_job(session, ui, params)
  if not job then return nil end
  return core.place(session, ui, job.placements, job.undo), job
end

-- Variate selected region -------------------------------------------------------------------

--- The part of its source that a region plays: { source = file, source_start = s, source_seconds = s },
-- or nil and why not. A region of several channels is varied from its first channel's file.
function core.region_source(session, region)
  local source = region:source(0)
  if source:isnil() then return nil, "The selected region has no source." end
  local file = source:to_filesource()
  if file:isnil() then return nil, "The selected region does not play a file." end
  local rate = session:nominal_sample_rate() -- region times are in the session's samples
  return {
    source = file:path(),
    source_start = region:start():samples() / rate,
    source_seconds = region:length():samples() / rate,
  }
end

local VAR_TOP, VAR_NEW = "on the region's track, on top of it", "each on a new track"

--- Everything "Variate selected region" does before Ardour's import. Returns a job or nil.
function core.variate_job(session, ui, params)
  local region = ui.region
  if not region then
    ui.message("Select an audio region first.")
    return nil
  end
  local part, problem = core.region_source(session, region)
  if not part then
    ui.message(problem)
    return nil
  end
  local settings = core.load_settings()
  local last = settings.last
  local fields = {
    { type = "slider", key = "strength", title = "Strength (how far from the region)", min = 0.05, max = 1, digits = 2,
      default = tonumber(last["variate.strength"]) or 0.5 },
    { type = "number", key = "count", title = "How many", min = 1, max = core.MAX_COUNT, step = 1, digits = 0,
      default = tonumber(last["variate.count"]) or 1 },
    { type = "dropdown", key = "where", title = "Put them", values = { [VAR_TOP] = "top", [VAR_NEW] = "tracks" },
      default = last["variate.where"] == "tracks" and VAR_NEW or VAR_TOP },
  }
  local check = { strength = check_strength, count = check_count,
    where = function(v) return check_choice(v, { "top", "tracks" }) end }
  local opts = options(settings, ui, "ddbridge: variate the selected region", params, fields, check, "variate.")
  if not opts then return nil end
  part.strength, part.count = opts.strength, opts.count
  local request = job_fields(session, "variate", part)
  local files = core.fetch(settings, ui, request)
  if not files then return nil end
  local position = region:position():samples()
  local track = core.track_of(session, region)
  local placements = {}
  for i, file in ipairs(files) do
    placements[i] = { path = file.path, position = position, track_name = region:name() .. " var" }
    if opts.where ~= "tracks" and track then placements[i].track = track end
  end
  return { request = request, files = files, placements = placements, undo = "ddbridge: variate " .. region:name() }
end

--- Variations of the selected region at its position, as one undo step.
function core.variate(session, ui, params)
  local job = core.variate_job(session, ui, params)
  if not job then return nil end
  return core.place(session, ui, job.placements, job.undo), job
end

-- Settings -------------------------------------------------------------------------------

--- Ask for the settings, save them and check that the daemon answers. Returns the ping's reply or nil.
function core.settings(session, ui)
  local settings = core.load_settings()
  local answers = ui.ask({ title = "ddbridge: settings", fields = {
    { type = "entry", key = "executable", title = "ddbridge command (full path, or a name on PATH)", default = settings.executable },
    { type = "entry", key = "endpoint", title = "Daemon address", default = settings.endpoint },
    { type = "entry", key = "connect_timeout", title = "Seconds to reach the daemon", default = settings.connect_timeout },
    { type = "entry", key = "job_timeout", title = "Seconds for a sound", default = settings.job_timeout },
  } })
  if not answers then return nil end
  for _, key in ipairs(SETTING_KEYS) do
    if answers[key] ~= nil then settings[key] = trim(answers[key]) end
  end
  for _, key in ipairs({ "connect_timeout", "job_timeout" }) do
    local _, problem = core.seconds(settings, key)
    if problem then
      ui.message(problem)
      return nil
    end
  end
  local saved, problem = core.save_settings(settings)
  if not saved then
    ui.message(problem)
    return nil
  end
  local reply, failure = core.send(settings, { op = "ping" })
  if not reply then
    ui.message("Settings saved, but:\n\n" .. failure)
  elseif reply.ok then
    ui.message("Settings saved. ddbridge " .. tostring(reply.version) .. " is answering at " .. settings.endpoint .. ".")
  else
    ui.message("Settings saved, but:\n\n" .. core.describe_error(settings, reply.error))
  end
  return reply
end

return core
