-- @noindex
-- The ddbridge actions: each asks the daemon for sounds (see client.lua) and puts the new
-- files into the project: at the edit cursor, into ReaSamplOmatic5000, or as new takes.
-- Files are written by the daemon into <project media folder>/Samples/Generated/<category>/
-- (variations into .../Generated/variation/).

local client = require("ddbridge.client")

local actions = {}

local TITLE = "ddbridge"
local RS5K = "ReaSamplOmatic5000 (Cockos)"
local CATEGORY_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_%-]*$"
local START_HINT = "Start the daemon in a terminal with:\n\n    ddbridge serve\n\nthen run this action again."
local SETUP_HINT = "Check the ddbridge command and address with the action \"ddbridge - Settings\", "
  .. "and that the daemon is running (ddbridge serve)."

local function notify(text)
  reaper.ShowConsoleMsg("ddbridge: " .. text .. "\n")
end

local function alert(text)
  reaper.MB(text, TITLE, 0)
end

--- The category in an action's file name, "ddbridge - Generate <category> at edit cursor.lua"
-- (ReaPack installs one copy per category); nil for the file that asks each time.
function actions.category_from_script(path)
  local name = path:match("([^/\\]+)$") or path
  return name:match("^ddbridge %- Generate (%S+) at edit cursor%.lua$")
end

local function ask_category()
  local last = reaper.GetExtState(client.SECTION, "category")
  local default = last ~= "" and last or "kick"
  local ok, answer = reaper.GetUserInputs("ddbridge: generate", 1, "Category (e.g. kick):", default)
  if not ok then return nil end
  answer = answer:match("^%s*(.-)%s*$")
  if not answer:match(CATEGORY_PATTERN) then
    alert(string.format("'%s' is not a category name (letters, digits, '-' and '_').", answer))
    return nil
  end
  client.set_setting("category", answer)
  return answer
end

local function is_absolute(path)
  return path:match("^/") or path:match("^%a:[/\\]") or path:match("^\\\\")
end

-- The project's media folder for new files: "" when the user chose ddbridge's own folder for an
-- unsaved project, nil when the action should stop. GetProjectPath reports the default recording
-- path for a project that was never saved, so an empty project file name (EnumProjects) is asked about.
local function project_folder()
  local _, file = reaper.EnumProjects(-1)
  if not file or file == "" then
    local answer = reaper.MB("This project has not been saved yet, so it has no folder of its own.\n\n"
      .. "Yes: save it now, and new sounds go into its folder.\n"
      .. "No: put them into ddbridge's own folder (~/Music/ddbridge) this time.\n"
      .. "Cancel: do nothing.", TITLE, 3)
    if answer == 7 then return "" end
    if answer ~= 6 then return nil end
    reaper.Main_SaveProject(0, true)
    _, file = reaper.EnumProjects(-1)
    if not file or file == "" then return nil end
  end
  local folder = reaper.GetProjectPath()
  if not is_absolute(folder) then
    alert("REAPER reports no project media folder ('" .. folder .. "'). Save the project first.")
    return nil
  end
  return folder
end

-- A job request with the project's folder and, when the project fixes one, its sample rate.
local function job_request(op, fields)
  local folder = project_folder()
  if not folder then return nil end
  fields.op, fields.wait = op, true
  if folder ~= "" then fields.project_dir = folder end
  if reaper.GetSetProjectInfo(0, "PROJECT_SRATE_USE", 0, false) == 1 then
    fields.sample_rate = math.floor(reaper.GetSetProjectInfo(0, "PROJECT_SRATE", 0, false) + 0.5)
  end
  return fields
end

--- The text to show for an error reply.
function actions.describe_error(err)
  local code = type(err) == "table" and err.code or "unknown"
  local message = type(err) == "table" and tostring(err.message) or "no details"
  if code == "unavailable" then
    return "ddbridge did not answer at " .. client.setting("endpoint") .. ":\n" .. message .. "\n\n" .. START_HINT
      .. "\n\nIf it is running but busy with long jobs, raise \"Seconds for a sound\" in \"ddbridge - Settings\"."
  end
  return string.format("ddbridge could not do it (%s):\n\n%s", code, message)
end

-- What each action does with its files once they exist; named so that a job outlives the
-- instance that started it (see client.lua). Each gets (data, files, seconds).
local placers = {}

-- The files of a reply, or nil after telling the user what went wrong.
local function files_of(reply, failure)
  if not reply then return alert(failure .. "\n\n" .. SETUP_HINT) end
  if reply.ok ~= true then return alert(actions.describe_error(reply.error)) end
  if type(reply.files) ~= "table" or #reply.files == 0 then return alert("ddbridge answered without files.") end
  return reply.files
end

-- Send `request`; when its files exist, placers[kind](data, files, seconds) puts them into the project.
local function run_job(label, request, kind, data)
  notify(label .. "...")
  data.started = reaper.time_precise()
  local ok, problem = client.send(request, { waits = true, handler = "ddbridge.actions." .. kind, data = data })
  if not ok then alert(problem .. "\n\n" .. SETUP_HINT) end
end

for _, kind in ipairs({ "insert", "sampler", "takes", "loop" }) do
  client.handlers["ddbridge.actions." .. kind] = function(data, reply, failure)
    local files = files_of(reply, failure)
    if files then placers[kind](data, files, reaper.time_precise() - data.started) end
  end
end

-- REAPER ends a running instance of an action and starts it again when the action is run again
-- (REAPER 7.03+), instead of asking; the new instance takes over the jobs still waiting.
local function begin()
  if reaper.set_action_options then reaper.set_action_options(1 | 2) end
  client.resume()
end

local function selected_track()
  local track = reaper.GetSelectedTrack(0, 0)
  if not track then alert("Select a track first.") end
  return track
end

local function track_by_guid(guid)
  for i = 0, reaper.CountTracks(0) - 1 do
    local track = reaper.GetTrack(0, i)
    if reaper.GetTrackGUID(track) == guid then return track end
  end
end

local function item_by_guid(guid)
  for i = 0, reaper.CountMediaItems(0) - 1 do
    local item = reaper.GetMediaItem(0, i)
    if select(2, reaper.GetSetMediaItemInfo_String(item, "GUID", "", false)) == guid then return item end
  end
end

local function gone(what, files)
  alert("The " .. what .. " was removed while ddbridge worked. The new file is:\n\n" .. files[1].path)
end

--- Generate one sound of `category` (asked when nil) and insert it at the edit cursor on the
-- track selected when the action ran, both as they were then.
function actions.generate_at_cursor(category)
  begin()
  local track = selected_track()
  if not track then return end
  category = category or ask_category()
  if not category then return end
  local request = job_request("generate", { category = category })
  if not request then return end
  local data = { track = reaper.GetTrackGUID(track), position = reaper.GetCursorPosition(), category = category }
  run_job("generating " .. category, request, "insert", data)
end

function placers.insert(data, files, seconds)
  local track = track_by_guid(data.track)
  if not track then return gone("track", files) end
  -- mode 0 adds to REAPER's current (last touched) track; 512 with the track's index in the high
  -- word adds to that track whatever the user touched meanwhile
  local index = math.floor(reaper.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER")) - 1
  reaper.Undo_BeginBlock()
  reaper.SetEditCurPos(data.position, false, false)
  reaper.InsertMedia(files[1].path, 512 | (index << 16))
  reaper.Undo_EndBlock("ddbridge: generate " .. data.category .. " at edit cursor", -1)
  reaper.UpdateArrange()
  notify(string.format("inserted %s (%.1f s)", files[1].path, seconds))
end

-- Ask for the category and a root note (the last answers, else kick and none); nil when cancelled or
-- not a category. The note goes to the daemon as typed (a MIDI number as a number): it checks it.
local function ask_category_and_note()
  local last = reaper.GetExtState(client.SECTION, "sampler")
  local default = last ~= "" and last or "kick,"
  local ok, answer = reaper.GetUserInputs("ddbridge: generate into ReaSamplOmatic5000", 2,
    "Category (e.g. kick):,Root note (e.g. C2 or 36; empty: none):,extrawidth=100", default)
  if not ok then return nil end
  local category, note = answer:match("^([^,]*),?(.*)$")
  category, note = category:match("^%s*(.-)%s*$"), note:match("^%s*(.-)%s*$")
  if not category:match(CATEGORY_PATTERN) then
    return alert(string.format("'%s' is not a category name (letters, digits, '-' and '_').", category))
  end
  client.set_setting("sampler", category .. "," .. note)
  if note == "" then return category, nil end
  return category, tonumber(note) and math.tointeger(tonumber(note)) or note
end

-- ", tuned from 98.0 Hz to C2 (+45 cents)" or ", not tuned to C2: no clear pitch (...)": what the daemon did
-- with the asked root note (its metadata's tuning); "" when none was asked.
local function tuning_of(metadata)
  if type(metadata) ~= "table" or type(metadata.tuning) ~= "string" then return "" end
  return ", " .. metadata.tuning
end

--- Generate one sound (category and root note asked) and load it into the first ReaSamplOmatic5000
-- on the selected track, adding one when the track has none. A sound tuned to its root note carries
-- it (smpl chunk), so the sampler plays it at that key.
function actions.generate_into_sampler()
  begin()
  local track = selected_track()
  if not track then return end
  local category, note = ask_category_and_note()
  if not category then return end
  local request = job_request("generate", { category = category, note = note })
  if not request then return end
  local label = "generating " .. category .. " for ReaSamplOmatic5000"
  run_job(label, request, "sampler", { track = reaper.GetTrackGUID(track), category = category })
end

function placers.sampler(data, files, seconds)
  local track = track_by_guid(data.track)
  if not track then return gone("track", files) end
  reaper.Undo_BeginBlock()
  -- instantiate > 0: reuse the first instance, add one only if none is found (< 0 would always add)
  local fx = reaper.TrackFX_AddByName(track, RS5K, false, 1)
  local loaded = fx >= 0
    and reaper.TrackFX_SetNamedConfigParm(track, fx, "FILE0", files[1].path)
    and reaper.TrackFX_SetNamedConfigParm(track, fx, "DONE", "")
  reaper.Undo_EndBlock("ddbridge: load generated " .. data.category .. " into ReaSamplOmatic5000", -1)
  if not loaded then
    return alert("Could not load the new sound into ReaSamplOmatic5000. The file is:\n\n" .. files[1].path)
  end
  notify(string.format("loaded %s into ReaSamplOmatic5000 (%.1f s)%s", files[1].path, seconds, tuning_of(files[1].metadata)))
end

-- Generate loop at project tempo ------------------------------------------------------------

local GENRE_PATTERN = "^[%w][%w &_%-]*$" -- genre names and their aliases (hip-hop, d&b, deep house)
local BEATS_PER_BAR = 4 -- the daemon's loops are bars of 4/4: 4 quarter notes each

-- The default model's loop network in a `models` reply: its `loops` ({genres, bpm = {low, high}, bars})
-- and the model's name; nil and the name when the model has none.
local function loop_network(reply)
  local models = type(reply.models) == "table" and reply.models or {}
  local model = models[1]
  for _, m in ipairs(models) do if m.default == true then model = m end end
  if type(model) ~= "table" then return nil, "?" end
  local loops = model.loops
  if type(loops) ~= "table" or type(loops.bpm) ~= "table" or type(loops.bars) ~= "table" then
    return nil, tostring(model.name)
  end
  return loops, tostring(model.name)
end

local function listed(list, separator)
  local out = {}
  for i, v in ipairs(list) do out[i] = string.format("%g", v) end
  return table.concat(out, separator)
end

-- Ask for the bars and the genre (the last answers, else 1 bar of any genre); nil when cancelled or
-- after telling the user what was wrong.
local function ask_loop(loops, bpm)
  local last = reaper.GetExtState(client.SECTION, "loop")
  local default = last ~= "" and last or "1,any"
  local genres = { "any" }
  for _, g in ipairs(type(loops.genres) == "table" and loops.genres or {}) do genres[#genres + 1] = tostring(g) end
  local captions = string.format("Bars (%s):,Genre (%s):,extrawidth=150", listed(loops.bars, "/"), table.concat(genres, "/"))
  local ok, answer = reaper.GetUserInputs(string.format("ddbridge: loop at %g BPM", bpm), 2, captions, default)
  if not ok then return nil end
  local bars_text, genre = answer:match("^%s*([^,]-)%s*,%s*([^,]-)%s*$")
  local bars = math.tointeger(tonumber(bars_text))
  local allowed = false
  for _, b in ipairs(loops.bars) do if b == bars then allowed = true end end
  if not allowed then
    return alert(string.format("Bars must be %s, not '%s'.", listed(loops.bars, ", "), tostring(bars_text or answer)))
  end
  genre = genre ~= "" and genre or "any"
  if not genre:match(GENRE_PATTERN) then
    return alert(string.format("'%s' is not a genre name (%s).", genre, table.concat(genres, ", ")))
  end
  client.set_setting("loop", bars .. "," .. genre)
  return { bars = bars, genre = genre }
end

--- Generate a loop at the project's tempo at the edit cursor: asks the daemon for its loop network,
-- then (when it has one and the tempo is in its range) for the bars and the genre, and inserts the
-- loop at the edit cursor on the track selected when the action ran (see placers.loop).
function actions.generate_loop()
  begin()
  local track = selected_track()
  if not track then return end
  local position = reaper.GetCursorPosition()
  local _, _, tempo = reaper.TimeMap_GetTimeSigAtTime(0, position)
  local bpm = math.floor(tempo * 1000 + 0.5) / 1000
  local data = { track = reaper.GetTrackGUID(track), position = position, bpm = bpm }
  notify(string.format("asking ddbridge for its loop network (%g BPM at the edit cursor)...", bpm))
  local ok, problem = client.send({ op = "models" }, { handler = "ddbridge.actions.loop_network", data = data })
  if not ok then alert(problem .. "\n\n" .. SETUP_HINT) end
end

client.handlers["ddbridge.actions.loop_network"] = function(data, reply, failure)
  if not reply then return alert(failure .. "\n\n" .. SETUP_HINT) end
  if reply.ok ~= true then return alert(actions.describe_error(reply.error)) end
  local loops, model = loop_network(reply)
  if not loops then
    return alert(string.format("The daemon's model '%s' has no loop network, so it makes no loops at a tempo.\n\n"
      .. "Start ddbridge serve with a model that has one, then run this action again.", model))
  end
  local low, high = loops.bpm[1], loops.bpm[2]
  if data.bpm < low or data.bpm > high then
    return alert(string.format("The tempo at the edit cursor is %g BPM; the loop network makes loops at %g to %g BPM.\n\n"
      .. "Set a tempo in that range, then run this action again.", data.bpm, low, high))
  end
  local answer = ask_loop(loops, data.bpm)
  if not answer then return end
  local request = job_request("generate", { category = "loop", bpm = data.bpm, bars = answer.bars, count = 1 })
  if not request then return end
  if answer.genre ~= "any" then request.genre = answer.genre end -- no genre: any
  data.bars, data.genre = answer.bars, answer.genre
  local label = string.format("generating %d bar(s) of %s at %g BPM", answer.bars, answer.genre, data.bpm)
  run_job(label, request, "loop", data)
end

-- The loop's item follows the project's tempo. Its timebase is beats with auto-stretch (C_BEATATTACHMODE 1
-- and C_AUTOSTRETCH 1, "auto-stretch at project tempo changes"), so tempo changes made later stretch it,
-- and its take keeps its pitch when stretched (B_PPITCH). It loops its source (B_LOOPSRC): drag its edge
-- to repeat it. When the tempo map already changes within the N bars, a stretch marker on each beat puts
-- the loop's beat k (k * 60 / bpm s into the file) on the project's beat k after the edit cursor, and
-- the item is made N bars long in project time. Returns true when it was stretched so.
local function follow_tempo(item, take, data)
  local beats = data.bars * BEATS_PER_BAR
  local qn = reaper.TimeMap2_timeToQN(0, data.position)
  local span = reaper.TimeMap2_QNToTime(0, qn + beats) - data.position
  local stretched = math.abs(span - beats * 60 / data.bpm) > 0.001
  if stretched then
    for k = 0, beats do
      reaper.SetTakeStretchMarker(take, -1, reaper.TimeMap2_QNToTime(0, qn + k) - data.position, k * 60 / data.bpm)
    end
    reaper.SetMediaItemInfo_Value(item, "D_LENGTH", span)
  end
  reaper.SetMediaItemInfo_Value(item, "B_LOOPSRC", 1)
  reaper.SetMediaItemTakeInfo_Value(take, "B_PPITCH", 1)
  reaper.SetMediaItemInfo_Value(item, "C_BEATATTACHMODE", 1)
  reaper.SetMediaItemInfo_Value(item, "C_AUTOSTRETCH", 1)
  return stretched
end

function placers.loop(data, files, seconds)
  local track = track_by_guid(data.track)
  if not track then return gone("track", files) end
  local path = files[1].path
  local index = math.floor(reaper.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER")) - 1
  reaper.Undo_BeginBlock()
  reaper.SetEditCurPos(data.position, false, false)
  local inserted = reaper.InsertMedia(path, 512 | (index << 16)) ~= 0
  -- InsertMedia leaves the new item as the only selected one
  local item = inserted and reaper.GetSelectedMediaItem(0, 0)
  local take = item and reaper.GetActiveTake(item)
  local ours = take and reaper.GetMediaSourceFileName(reaper.GetMediaItemTake_Source(take)) == path
  local stretched = ours and follow_tempo(item, take, data)
  reaper.Undo_EndBlock(string.format("ddbridge: loop at project tempo (%g BPM)", data.bpm), -1)
  reaper.UpdateArrange()
  if not ours then return alert("REAPER did not insert the new loop. The file is:\n\n" .. path) end
  local how = stretched and "stretched to the tempo changes within it" or "at the project tempo"
  notify(string.format("inserted %s (%d bar(s) of %s at %g BPM, looped, %s; %.1f s)", path, data.bars, data.genre,
    data.bpm, how, seconds))
end

-- The audio file behind a take's source and the part of it the item plays: {source, source_start,
-- source_seconds, source_reverse, source_playrate}, or nil and why not. A reversed take or a
-- section plays a section source, whose file name is "" and whose parent holds the file.
local function take_source(item, take)
  local source = reaper.GetMediaItemTake_Source(take)
  local start = math.max(0, reaper.GetMediaItemTakeInfo_Value(take, "D_STARTOFFS"))
  local playrate = reaper.GetMediaItemTakeInfo_Value(take, "D_PLAYRATE")
  local seconds = reaper.GetMediaItemInfo_Value(item, "D_LENGTH") * playrate -- in source time
  local reverse = false
  local path = reaper.GetMediaSourceFileName(source)
  while path == "" do
    local parent = reaper.GetMediaSourceParent(source)
    if not parent then return nil, "The selected item's active take has no audio file (MIDI or empty)." end
    local is_section, offset, length, reversed = reaper.PCM_Source_GetSectionInfo(source)
    if is_section then
      start = reversed and offset + math.max(0, length - start - seconds) or offset + start
      seconds = math.min(seconds, length)
      reverse = reverse ~= reversed
    end
    source, path = parent, reaper.GetMediaSourceFileName(parent)
  end
  if not is_absolute(path) then path = reaper.GetProjectPath() .. package.config:sub(1, 1) .. path end
  local region = { source = path, source_start = start, source_seconds = seconds, source_reverse = reverse }
  -- with "preserve pitch" the take is stretched, which the daemon cannot do: send it unstretched
  if reaper.GetMediaItemTakeInfo_Value(take, "B_PPITCH") == 0 then region.source_playrate = playrate end
  return region
end

-- The first selected item and the part of its active take's audio it plays, or nil and why not.
local function selected_source()
  local item = reaper.GetSelectedMediaItem(0, 0)
  if not item then return nil, "Select an audio item first." end
  local take = reaper.GetActiveTake(item)
  if not take then return nil, "The selected item has no take." end
  local region, problem = take_source(item, take)
  if not region then return nil, problem end
  return item, region
end

--- Send the part of the selected item's audio it plays as the prompt; add each of the `count`
-- variations to the item as a new take (the last one becomes the active take). `strength` nil:
-- the daemon's default.
function actions.variate(count, strength)
  begin()
  local item, region = selected_source()
  if not item then return alert(region) end
  region.count, region.strength = count, strength
  local request = job_request("variate", region)
  if not request then return end
  local label = count == 1 and "a variation" or (count .. " variations")
  local guid = select(2, reaper.GetSetMediaItemInfo_String(item, "GUID", "", false))
  run_job("making " .. label .. " of " .. region.source, request, "takes", { item = guid, label = label })
end

function placers.takes(data, files, seconds)
  local item = item_by_guid(data.item)
  if not item then return gone("item", files) end
  reaper.Undo_BeginBlock()
  reaper.SelectAllMediaItems(0, false)
  reaper.SetMediaItemSelected(item, true)
  for _, file in ipairs(files) do reaper.InsertMedia(file.path, 3) end
  reaper.Undo_EndBlock("ddbridge: " .. data.label .. " as new takes", -1)
  reaper.UpdateArrange()
  notify(string.format("added %d take(s) (%.1f s)", #files, seconds))
end

--- Ask how many variations and how strong, then run actions.variate.
function actions.variations_dialog()
  begin()
  local last = reaper.GetExtState(client.SECTION, "variations")
  local default = last ~= "" and last or "4,0.7"
  local ok, answer = reaper.GetUserInputs("ddbridge: variations", 2, "How many (1-16):,Strength (0-1):", default)
  if not ok then return end
  local count_text, strength_text = answer:match("^%s*([^,]-)%s*,%s*([^,]-)%s*$")
  local count, strength = math.tointeger(tonumber(count_text)), tonumber(strength_text)
  if not count or count < 1 or count > 16 then return alert("How many must be a whole number from 1 to 16.") end
  if not strength or strength <= 0 or strength > 1 then return alert("Strength must be a number above 0, up to 1.") end
  client.set_setting("variations", answer)
  actions.variate(count, strength)
end

--- Edit the settings, then check that the daemon answers.
function actions.settings_dialog()
  begin()
  local keys = { "executable", "endpoint", "connect_timeout", "job_timeout" }
  local current = {}
  for i, key in ipairs(keys) do current[i] = client.setting(key) end
  local ok, answer = reaper.GetUserInputs("ddbridge settings", #keys,
    "ddbridge command (path or name):,Daemon address:,Seconds to reach the daemon:,Seconds for a sound:,extrawidth=300",
    table.concat(current, ","))
  if not ok then return end
  local values = {}
  for value in (answer .. ","):gmatch("([^,]*),") do values[#values + 1] = value:match("^%s*(.-)%s*$") end
  if #values ~= #keys then return alert("Commas are not allowed in the settings.") end
  for i, key in ipairs(keys) do client.set_setting(key, values[i]) end
  for _, key in ipairs({ "connect_timeout", "job_timeout" }) do
    local seconds, problem = client.seconds(key)
    if not seconds then return alert(problem) end
  end
  local started, problem = client.send({ op = "ping" }, {
    on_reply = function(reply)
      if reply.ok then return alert("Settings saved. ddbridge " .. tostring(reply.version) .. " is answering.") end
      alert("Settings saved, but:\n\n" .. actions.describe_error(reply.error))
    end,
    on_failure = function(text) alert("Settings saved, but:\n\n" .. text) end,
  })
  if not started then alert("Settings saved, but:\n\n" .. problem) end
end

return actions
