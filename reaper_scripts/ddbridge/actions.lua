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

-- A job request with the project's folder and, when the project fixes one, its sample rate.
local function job_request(op, fields)
  local project = reaper.GetProjectPath()
  if project == "" or not is_absolute(project) then
    alert("REAPER reports no project media folder ('" .. project .. "'). Save the project first.")
    return nil
  end
  fields.op, fields.project_dir, fields.wait = op, project, true
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

-- Send `request`; when its files exist call on_files(files, seconds), else explain what failed.
local function run_job(label, request, on_files)
  notify(label .. "...")
  local started = reaper.time_precise()
  local ok, problem = client.send(request, {
    waits = true,
    on_reply = function(reply)
      if reply.ok ~= true then return alert(actions.describe_error(reply.error)) end
      if type(reply.files) ~= "table" or #reply.files == 0 then return alert("ddbridge answered without files.") end
      on_files(reply.files, reaper.time_precise() - started)
    end,
    on_failure = function(text) alert(text .. "\n\n" .. SETUP_HINT) end,
  })
  if not ok then alert(problem .. "\n\n" .. SETUP_HINT) end
end

local function selected_track()
  local track = reaper.GetSelectedTrack(0, 0)
  if not track then alert("Select a track first.") end
  return track
end

local function still_there(pointer, kind, files)
  if reaper.ValidatePtr2(0, pointer, kind) then return true end
  local what = kind == "MediaTrack*" and "track" or "item"
  alert("The " .. what .. " was removed while ddbridge worked. The new file is:\n\n" .. files[1].path)
  return false
end

--- Generate one sound of `category` (asked when nil) and insert it on the selected track at the
-- edit cursor, both as they were when the action ran.
function actions.generate_at_cursor(category)
  local track = selected_track()
  if not track then return end
  category = category or ask_category()
  if not category then return end
  local position = reaper.GetCursorPosition()
  local request = job_request("generate", { category = category })
  if not request then return end
  run_job("generating " .. category, request, function(files, seconds)
    if not still_there(track, "MediaTrack*", files) then return end
    reaper.Undo_BeginBlock()
    reaper.SetOnlyTrackSelected(track)
    reaper.SetEditCurPos(position, false, false)
    reaper.InsertMedia(files[1].path, 0)
    reaper.Undo_EndBlock("ddbridge: generate " .. category .. " at edit cursor", -1)
    reaper.UpdateArrange()
    notify(string.format("inserted %s (%.1f s)", files[1].path, seconds))
  end)
end

--- Generate one sound (category asked) and load it into the first ReaSamplOmatic5000 on the
-- selected track, adding one when the track has none.
function actions.generate_into_sampler()
  local track = selected_track()
  if not track then return end
  local category = ask_category()
  if not category then return end
  local request = job_request("generate", { category = category })
  if not request then return end
  run_job("generating " .. category .. " for ReaSamplOmatic5000", request, function(files, seconds)
    if not still_there(track, "MediaTrack*", files) then return end
    reaper.Undo_BeginBlock()
    -- instantiate > 0: reuse the first instance, add one only if none is found (< 0 would always add)
    local fx = reaper.TrackFX_AddByName(track, RS5K, false, 1)
    local loaded = fx >= 0
      and reaper.TrackFX_SetNamedConfigParm(track, fx, "FILE0", files[1].path)
      and reaper.TrackFX_SetNamedConfigParm(track, fx, "DONE", "")
    reaper.Undo_EndBlock("ddbridge: load generated " .. category .. " into ReaSamplOmatic5000", -1)
    if not loaded then
      return alert("Could not load the new sound into ReaSamplOmatic5000. The file is:\n\n" .. files[1].path)
    end
    notify(string.format("loaded %s into ReaSamplOmatic5000 (%.1f s)", files[1].path, seconds))
  end)
end

-- The first selected item and the audio file of its active take, or nil and why not.
local function selected_source()
  local item = reaper.GetSelectedMediaItem(0, 0)
  if not item then return nil, "Select an audio item first." end
  local take = reaper.GetActiveTake(item)
  if not take then return nil, "The selected item has no take." end
  local path = reaper.GetMediaSourceFileName(reaper.GetMediaItemTake_Source(take))
  if path == "" then return nil, "The selected item's active take has no audio file (MIDI or empty)." end
  if not is_absolute(path) then path = reaper.GetProjectPath() .. package.config:sub(1, 1) .. path end
  return item, path
end

--- Send the selected item's audio as the prompt; add each of the `count` variations to the
-- item as a new take (the last one becomes the active take). `strength` nil: the daemon's default.
function actions.variate(count, strength)
  local item, path = selected_source()
  if not item then return alert(path) end
  local request = job_request("variate", { source = path, count = count, strength = strength })
  if not request then return end
  local label = count == 1 and "a variation" or (count .. " variations")
  run_job("making " .. label .. " of " .. path, request, function(files, seconds)
    if not still_there(item, "MediaItem*", files) then return end
    reaper.Undo_BeginBlock()
    reaper.SelectAllMediaItems(0, false)
    reaper.SetMediaItemSelected(item, true)
    for _, file in ipairs(files) do reaper.InsertMedia(file.path, 3) end
    reaper.Undo_EndBlock("ddbridge: " .. label .. " as new takes", -1)
    reaper.UpdateArrange()
    notify(string.format("added %d take(s) (%.1f s)", #files, seconds))
  end)
end

--- Ask how many variations and how strong, then run actions.variate.
function actions.variations_dialog()
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
