-- A stand-in for REAPER's `reaper` table: exactly the documented ReaScript functions that the
-- ddbridge scripts call, with their documented Lua signatures (argument count and types are
-- checked), a small project model they act on, and a record of every call. Any other name
-- raises an error, so a script that uses an undocumented or unlisted function fails loudly.
--
-- Signatures follow REAPER's ReaScript API documentation (Lua column), e.g.
--   integer reaper.InsertMedia(string file, integer mode)
--   integer reaper.TrackFX_AddByName(MediaTrack track, string fxname, boolean recFX, integer instantiate)

local standin = {}

local function pointer(kind, fields)
  fields.kind = kind
  return setmetatable(fields, { __name = kind, __tostring = function(p) return kind .. "#" .. p.serial end })
end

--- Build the `reaper` table for a scenario (see run.lua); returns it and the state it records into.
-- `json` is the JSON module, used to mark arrays in the record.
function standin.new(scenario, json)
  local state = {
    calls = {}, console = {}, messages = {}, extstate = {}, defers = {}, undo_depth = 0, undo_blocks = {},
    cursor = scenario.cursor or 0.0, tracks = {}, items = {}, serial = 0, inputs = scenario.user_inputs or {},
    answers = scenario.mb_answers or {}, dialogs = {}, project_path = scenario.project_path,
    -- the project's .rpp file; "" while it has never been saved
    project_file = scenario.project_file or ((scenario.project_path or "") .. "/project.rpp"),
    instance = nil, -- the script instance whose code runs now (run.lua sets it)
  }
  local version = scenario.reaper_version or 7.03
  for section, keys in pairs(scenario.extstate or {}) do
    state.extstate[section] = {}
    for key, value in pairs(keys) do state.extstate[section][key] = value end
  end

  local function new_pointer(kind, fields)
    state.serial = state.serial + 1
    fields.serial, fields.alive = state.serial, true
    return pointer(kind, fields)
  end
  -- A take: a file, or {file, start_offset, playrate, preserve_pitch, section = {offset, length, reverse}}
  -- (a section or reversed take plays a "SECTION" source whose parent is the file's source).
  local function new_take(spec)
    if type(spec) == "string" then spec = { file = spec } end
    local source = new_pointer("PCM_source", { file = spec.file })
    if spec.section then
      local sec = spec.section
      source = new_pointer("PCM_source", {
        file = "", parent = source, offset = sec.offset or 0.0, length = sec.length, reverse = sec.reverse == true,
      })
    end
    return new_pointer("MediaItem_Take", {
      source = source, start_offset = spec.start_offset or 0.0, playrate = spec.playrate or 1.0,
      preserve_pitch = spec.preserve_pitch == true, stretch_markers = {},
    })
  end
  -- A WAV file's length in seconds, read from its RIFF header (fmt and data chunks), or nil.
  local function wav_seconds(path)
    local f = io.open(path, "rb")
    if not f then return nil end
    local data = f:read("a")
    f:close()
    if data:sub(1, 4) ~= "RIFF" or data:sub(9, 12) ~= "WAVE" then return nil end
    local pos, byte_rate, data_size = 13, nil, nil
    while pos + 8 <= #data + 1 do
      local id, size = data:sub(pos, pos + 3), string.unpack("<I4", data, pos + 4)
      if id == "fmt " then byte_rate = string.unpack("<I4", data, pos + 16) end
      if id == "data" then data_size = size end
      pos = pos + 8 + size + (size % 2)
    end
    return byte_rate and data_size and data_size / byte_rate or nil
  end
  local function new_item(track, position, files, length)
    local item = new_pointer("MediaItem", {
      track = track, position = position, takes = {}, selected = false, length = length or 1.0,
      guid = string.format("{00000000-0000-0000-0000-%012d}", state.serial + 1), info = {},
    })
    for _, file in ipairs(files) do item.takes[#item.takes + 1] = new_take(file) end
    item.active = #item.takes > 0 and 1 or nil
    state.items[#state.items + 1] = item
    return item
  end
  for i, spec in ipairs(scenario.tracks or {}) do
    local name = spec.name or ("Track " .. i)
    local track = new_pointer("MediaTrack", {
      name = name, selected = spec.selected == true, fx = {}, guid = string.format("{TRACK-%04d}", i),
    })
    for _, fx in ipairs(spec.fx or {}) do track.fx[#track.fx + 1] = { name = fx, config = {} } end
    state.tracks[i] = track
  end
  for _, spec in ipairs(scenario.items or {}) do
    local item = new_item(state.tracks[spec.track], spec.position or 0.0, spec.takes or {}, spec.length)
    item.selected = spec.selected == true
  end
  -- REAPER's current track (the last touched one), where InsertMedia mode 0 adds; by default the
  -- first selected track
  state.touched = state.tracks[scenario.last_touched or 0]
  for _, t in ipairs(state.tracks) do if not state.touched and t.selected then state.touched = t end end

  -- argument checking ---------------------------------------------------------------------
  local type_ok
  function type_ok(value, wanted)
    local optional = wanted:match("^(.*)%?$") -- "number?": an optional argument, nil or of that type
    if optional then return value == nil or type_ok(value, optional) end
    if wanted == "ReaProject" then -- 0 (or nil): the active project; or the pointer EnumProjects gives
      return value == 0 or value == nil or (type(value) == "table" and value.kind == "ReaProject")
    end
    if wanted == "integer" then return math.type(value) == "integer" end
    if wanted == "number" then return type(value) == "number" end
    if wanted == "identifier" then return type(value) == "table" and value.serial ~= nil end
    if wanted == "string" or wanted == "boolean" or wanted == "function" then return type(value) == wanted end
    return type(value) == "table" and value.kind == wanted
  end
  local function shown(value)
    if type(value) == "table" and value.serial then return tostring(value) end
    if type(value) == "function" then return "<function>" end
    return value
  end

  local api = {}
  local function def(name, params, body)
    api[name] = function(...)
      local args = table.pack(...)
      if args.n > #params then
        error(string.format("reaper.%s takes %d argument(s), got %d", name, #params, args.n), 2)
      end
      local record = {}
      for i, wanted in ipairs(params) do
        if not type_ok(args[i], wanted) then
          error(string.format("reaper.%s: argument %d must be %s, got %s", name, i, wanted, tostring(args[i])), 2)
        end
        record[i] = shown(args[i])
      end
      state.calls[#state.calls + 1] = { fn = name, args = json.as_array(record) }
      return body(table.unpack(args, 1, args.n))
    end
  end

  local function selected(list)
    local out = {}
    for _, p in ipairs(list) do if p.alive and p.selected then out[#out + 1] = p end end
    return out
  end
  local function is_file(path)
    local f = io.open(path, "rb")
    if not f then return false end
    local _, err = f:read(1)
    f:close()
    return err == nil
  end

  -- general --------------------------------------------------------------------------------
  -- boolean is_new_value, string filename, integer sectionID, integer cmdID, integer mode,
  -- integer resolution, integer val, string contextstr = reaper.get_action_context()
  def("get_action_context", {}, function()
    return false, state.instance and state.instance.script or scenario.script, 0, 54321, -1, -1, -1, ""
  end)
  -- boolean reaper.defer(function function)
  def("defer", { "function" }, function(fn)
    state.defers[#state.defers + 1] = { fn = fn, instance = state.instance }
    return true
  end)
  -- reaper.set_action_options(integer flag) (REAPER 7.03+): &1 = end this instance when the action
  -- runs again, &2 = and then start the new one; &4/&8 = toggle state on/off
  def("set_action_options", { "integer" }, function(flag)
    if state.instance then state.instance.options = flag end
  end)
  -- number reaper.time_precise()
  def("time_precise", {}, function() return standin.now() end)
  -- reaper.ShowConsoleMsg(string msg)
  def("ShowConsoleMsg", { "string" }, function(msg) state.console[#state.console + 1] = msg end)
  -- integer reaper.MB(string msg, string title, integer type): 0=OK ... returns 1=OK
  -- type: 0 = OK, 1 = OK/Cancel, 3 = Yes/No/Cancel, 4 = Yes/No ...; returns 1 OK, 2 Cancel, 6 Yes, 7 No
  def("MB", { "string", "string", "integer" }, function(msg, title, kind)
    state.messages[#state.messages + 1] = { title = title, text = msg, type = kind }
    if kind == 0 then return 1 end
    local answer = table.remove(state.answers, 1)
    if not answer then error("the script asked a question ('" .. msg .. "') that the scenario did not expect", 2) end
    return answer
  end)
  -- boolean retval, string retvals_csv =
  --   reaper.GetUserInputs(string title, integer num_inputs, string captions_csv, string retvals_csv)
  def("GetUserInputs", { "string", "integer", "string", "string" }, function(title, n, captions, defaults)
    local fields = 0
    for caption in (captions .. ","):gmatch("([^,]*),") do
      if not caption:match("^extrawidth=") then fields = fields + 1 end
    end
    if fields ~= n then error("GetUserInputs: " .. n .. " inputs but " .. fields .. " captions", 2) end
    local answer = table.remove(state.inputs, 1)
    if not answer then error("the script asked for input ('" .. title .. "') that the scenario did not expect", 2) end
    state.prompts = state.prompts or {}
    state.prompts[#state.prompts + 1] = { title = title, captions = captions, defaults = defaults }
    return answer.ok, answer.ok and answer.answer or defaults
  end)
  -- string reaper.GetExtState(string section, string key)
  def("GetExtState", { "string", "string" }, function(section, key)
    return (state.extstate[section] or {})[key] or ""
  end)
  -- reaper.SetExtState(string section, string key, string value, boolean persist)
  def("SetExtState", { "string", "string", "string", "boolean" }, function(section, key, value)
    state.extstate[section] = state.extstate[section] or {}
    state.extstate[section][key] = value
  end)
  -- reaper.DeleteExtState(string section, string key, boolean persist)
  def("DeleteExtState", { "string", "string", "boolean" }, function(section, key)
    if state.extstate[section] then state.extstate[section][key] = nil end
  end)
  -- string reaper.ExecProcess(string cmdline, integer timeoutmsec): -1 = no wait, -2 = no wait and
  -- minimize. "Returns NULL on total failure": here, when the program cannot be started.
  def("ExecProcess", { "string", "integer" }, function(cmdline, timeout)
    if timeout ~= -1 and timeout ~= -2 then
      error("the scripts must not wait for a process (timeoutmsec " .. timeout .. ")", 2)
    end
    local program = standin.split(cmdline)[1]
    if not (program and os.execute("test -f '" .. program:gsub("'", "'\\''") .. "' -a -x '"
      .. program:gsub("'", "'\\''") .. "'")) then
      return nil
    end
    return standin.spawn(cmdline) and "0\n" or nil
  end)
  -- boolean reaper.file_exists(string path): true if path points to a valid, readable file
  def("file_exists", { "string" }, is_file)

  -- project ----------------------------------------------------------------------------------
  -- string buf = reaper.GetProjectPath()
  -- For a project that was never saved: the default recording path, not "" (REAPER's behaviour).
  def("GetProjectPath", {}, function() return state.project_path end)
  local project = pointer("ReaProject", { serial = 0 })
  -- ReaProject retval, string projfn = reaper.EnumProjects(integer idx): idx -1 = the current project
  def("EnumProjects", { "integer" }, function(idx)
    if idx == -1 or idx == 0 then return project, state.project_file end
    return nil, ""
  end)
  -- reaper.Main_SaveProject(ReaProject proj, boolean forceSaveAsIn): an unsaved project (or
  -- forceSaveAs) shows the Save As dialog; the scenario's `save_as` is what the user picks (none: cancel)
  def("Main_SaveProject", { "ReaProject", "boolean" }, function(_, force)
    if state.project_file ~= "" and not force then return end
    state.dialogs[#state.dialogs + 1] = "save as"
    if scenario.save_as then
      state.project_file = scenario.save_as
      state.project_path = scenario.save_as:match("^(.*)/[^/]*$")
    end
  end)
  -- number reaper.GetSetProjectInfo(ReaProject project, string desc, number value, boolean is_set)
  def("GetSetProjectInfo", { "ReaProject", "string", "number", "boolean" }, function(_, desc, _, is_set)
    if is_set then error("the scripts only read project settings", 2) end
    local rate = scenario.project_srate
    if desc == "PROJECT_SRATE_USE" then return rate and 1.0 or 0.0 end
    if desc == "PROJECT_SRATE" then return (rate or 44100) + 0.0 end
    error("GetSetProjectInfo: the stand-in knows PROJECT_SRATE and PROJECT_SRATE_USE, not " .. desc, 2)
  end)
  -- number reaper.GetCursorPosition()
  def("GetCursorPosition", {}, function() return state.cursor end)
  -- reaper.SetEditCurPos(number time, boolean moveview, boolean seekplay)
  def("SetEditCurPos", { "number", "boolean", "boolean" }, function(time) state.cursor = time end)
  -- reaper.Undo_BeginBlock()
  def("Undo_BeginBlock", {}, function() state.undo_depth = state.undo_depth + 1 end)
  -- reaper.Undo_EndBlock(string descchange, integer extraflags)
  def("Undo_EndBlock", { "string", "integer" }, function(desc)
    if state.undo_depth < 1 then error("Undo_EndBlock without Undo_BeginBlock", 2) end
    state.undo_depth = state.undo_depth - 1
    state.undo_blocks[#state.undo_blocks + 1] = desc
  end)
  -- reaper.UpdateArrange()
  def("UpdateArrange", {}, function() end)
  -- boolean reaper.ValidatePtr2(ReaProject proj, identifier pointer, string ctypename)
  def("ValidatePtr2", { "ReaProject", "identifier", "string" }, function(_, p, ctype)
    return p.alive and ctype == p.kind .. "*"
  end)

  -- tempo map ------------------------------------------------------------------------------
  -- The scenario's `tempo`: markers {time, bpm, num, denom} (square tempo changes, no ramps), sorted by
  -- time; the first at 0. Default: 120 BPM 4/4. Tempo is in quarter notes per minute (REAPER's BPM).
  local tempo_map = scenario.tempo or { { time = 0.0, bpm = 120.0 } }
  local function marker_at(time)
    local found = tempo_map[1]
    for _, m in ipairs(tempo_map) do if m.time <= time then found = m end end
    return found
  end
  -- quarter notes from 0 to each marker
  local marker_qn, qn = {}, 0.0
  for i, m in ipairs(tempo_map) do
    if i > 1 then
      local prev = tempo_map[i - 1]
      qn = qn + (m.time - prev.time) * prev.bpm / 60
    end
    marker_qn[i] = qn
  end
  -- integer timesig_num, integer timesig_denom, number tempo =
  --   reaper.TimeMap_GetTimeSigAtTime(ReaProject proj, number time): the effective time signature and tempo
  def("TimeMap_GetTimeSigAtTime", { "ReaProject", "number" }, function(_, time)
    local num, denom = 4, 4
    for _, m in ipairs(tempo_map) do
      if m.time <= time and m.num then num, denom = m.num, m.denom end
    end
    return math.tointeger(num), math.tointeger(denom), marker_at(time).bpm + 0.0
  end)
  -- number reaper.TimeMap2_timeToQN(ReaProject proj, number tpos): project time to quarter notes
  def("TimeMap2_timeToQN", { "ReaProject", "number" }, function(_, tpos)
    local i = 1
    for j, m in ipairs(tempo_map) do if m.time <= tpos then i = j end end
    return marker_qn[i] + (tpos - tempo_map[i].time) * tempo_map[i].bpm / 60
  end)
  -- number reaper.TimeMap2_QNToTime(ReaProject proj, number qn): quarter notes to project time
  def("TimeMap2_QNToTime", { "ReaProject", "number" }, function(_, q)
    local i = 1
    for j = 1, #tempo_map do if marker_qn[j] <= q then i = j end end
    return tempo_map[i].time + (q - marker_qn[i]) * 60 / tempo_map[i].bpm
  end)

  -- tracks -----------------------------------------------------------------------------------
  -- MediaTrack reaper.GetSelectedTrack(ReaProject proj, integer seltrackidx)
  def("GetSelectedTrack", { "ReaProject", "integer" }, function(_, idx) return selected(state.tracks)[idx + 1] end)
  -- integer reaper.CountTracks(ReaProject proj)
  def("CountTracks", { "ReaProject" }, function() return #state.tracks end)
  -- MediaTrack reaper.GetTrack(ReaProject proj, integer trackidx)
  def("GetTrack", { "ReaProject", "integer" }, function(_, idx) return state.tracks[idx + 1] end)
  -- string GUID = reaper.GetTrackGUID(MediaTrack tr)
  def("GetTrackGUID", { "MediaTrack" }, function(track) return track.guid end)
  -- number reaper.GetMediaTrackInfo_Value(MediaTrack tr, string parmname): IP_TRACKNUMBER is
  -- 1-based (0 = not found, -1 = master)
  def("GetMediaTrackInfo_Value", { "MediaTrack", "string" }, function(track, parm)
    if parm ~= "IP_TRACKNUMBER" then error("the stand-in knows IP_TRACKNUMBER, not " .. parm, 2) end
    for i, t in ipairs(state.tracks) do if t == track then return i + 0.0 end end
    return 0.0
  end)
  -- reaper.SetOnlyTrackSelected(MediaTrack track)
  def("SetOnlyTrackSelected", { "MediaTrack" }, function(track)
    for _, t in ipairs(state.tracks) do t.selected = (t == track) end
  end)
  -- integer reaper.InsertMedia(string file, integer mode)
  -- mode: 0=add to current track, 1=add new track, 3=add to selected items as takes, ...
  -- &512=use high word as absolute track index if mode&3==0 (0-based, as GetTrack counts)
  def("InsertMedia", { "string", "integer" }, function(file, mode)
    if not is_file(file) then return 0 end
    local low = mode & 0xFFFF
    if low & 3 == 0 and (low & ~512) == 0 then
      local track = state.touched
      if low & 512 ~= 0 then track = state.tracks[(mode >> 16) + 1] end
      if not track then return 0 end
      -- the new item is as long as its source and is the only selected item (as REAPER leaves it)
      local item = new_item(track, state.cursor, { file }, wav_seconds(file))
      for _, other in ipairs(state.items) do other.selected = (other == item) end
      return 1
    elseif mode == 3 then
      for _, item in ipairs(selected(state.items)) do
        item.takes[#item.takes + 1] = new_take(file)
        item.active = #item.takes
      end
      return 1
    end
    error("the stand-in supports InsertMedia modes 0, 512 | (track << 16) and 3, not " .. mode, 2)
  end)
  -- integer reaper.TrackFX_AddByName(MediaTrack track, string fxname, boolean recFX, integer instantiate)
  -- instantiate: negative = always add, 0 = only query the first instance, positive = add if not found
  def("TrackFX_AddByName", { "MediaTrack", "string", "boolean", "integer" }, function(track, name, rec, instantiate)
    if rec then error("the scripts use the track FX chain, not record FX", 2) end
    if instantiate >= 0 then
      for i, fx in ipairs(track.fx) do if fx.name == name then return i - 1 end end
      if instantiate == 0 then return -1 end
    end
    if instantiate <= -1000 then error("insertion positions are not used by the scripts", 2) end
    track.fx[#track.fx + 1] = { name = name, config = {} }
    return #track.fx - 1
  end)
  -- boolean reaper.TrackFX_SetNamedConfigParm(MediaTrack track, integer fx, string parmname, string value)
  def("TrackFX_SetNamedConfigParm", { "MediaTrack", "integer", "string", "string" }, function(track, index, parm, value)
    local fx = track.fx[index + 1]
    if not fx or fx.name ~= "ReaSamplOmatic5000 (Cockos)" then return false end
    if not (parm:match("^FILE%d+$") or parm == "DONE") then return false end
    fx.config[#fx.config + 1] = { parm = parm, value = value }
    return true
  end)

  -- items ------------------------------------------------------------------------------------
  -- MediaItem reaper.GetSelectedMediaItem(ReaProject proj, integer selitem)
  def("GetSelectedMediaItem", { "ReaProject", "integer" }, function(_, idx) return selected(state.items)[idx + 1] end)
  -- reaper.SelectAllMediaItems(ReaProject proj, boolean selected)
  def("SelectAllMediaItems", { "ReaProject", "boolean" }, function(_, sel)
    for _, item in ipairs(state.items) do item.selected = sel end
  end)
  -- reaper.SetMediaItemSelected(MediaItem item, boolean selected)
  def("SetMediaItemSelected", { "MediaItem", "boolean" }, function(item, sel) item.selected = sel end)
  -- integer reaper.CountMediaItems(ReaProject proj)
  local function alive_items()
    local out = {}
    for _, item in ipairs(state.items) do if item.alive then out[#out + 1] = item end end
    return out
  end
  def("CountMediaItems", { "ReaProject" }, function() return #alive_items() end)
  -- MediaItem reaper.GetMediaItem(ReaProject proj, integer itemidx)
  def("GetMediaItem", { "ReaProject", "integer" }, function(_, idx) return alive_items()[idx + 1] end)
  -- boolean retval, string stringNeedBig = reaper.GetSetMediaItemInfo_String(MediaItem item,
  --   string parmname, string stringNeedBig, boolean setNewValue)
  def("GetSetMediaItemInfo_String", { "MediaItem", "string", "string", "boolean" }, function(item, parm, _, set)
    if parm ~= "GUID" or set then error("the stand-in reads an item's GUID only", 2) end
    return true, item.guid
  end)
  -- number reaper.GetMediaItemInfo_Value(MediaItem item, string parmname)
  def("GetMediaItemInfo_Value", { "MediaItem", "string" }, function(item, parm)
    if parm == "D_LENGTH" then return item.length + 0.0 end
    if parm == "D_POSITION" then return item.position + 0.0 end
    error("the stand-in knows D_LENGTH and D_POSITION, not " .. parm, 2)
  end)
  -- boolean reaper.SetMediaItemInfo_Value(MediaItem item, string parmname, number newvalue)
  --   B_LOOPSRC : bool : loop source; D_LENGTH : double : item length in seconds;
  --   C_BEATATTACHMODE : char : item timebase, -1=track or project default, 1=beats (position, length, rate),
  --   2=beats (position only); C_AUTOSTRETCH : char : auto-stretch at project tempo changes, 1=enabled,
  --   requires C_BEATATTACHMODE=1
  local item_parms = { B_LOOPSRC = true, D_LENGTH = true, C_BEATATTACHMODE = true, C_AUTOSTRETCH = true }
  def("SetMediaItemInfo_Value", { "MediaItem", "string", "number" }, function(item, parm, value)
    if not item_parms[parm] then error("the stand-in sets B_LOOPSRC, D_LENGTH, C_BEATATTACHMODE and C_AUTOSTRETCH, not " .. parm, 2) end
    if parm == "D_LENGTH" then item.length = value else item.info[parm] = value end
    return true
  end)
  -- boolean reaper.SetMediaItemTakeInfo_Value(MediaItem_Take take, string parmname, number newvalue)
  --   B_PPITCH : bool : preserve pitch when changing playback rate
  def("SetMediaItemTakeInfo_Value", { "MediaItem_Take", "string", "number" }, function(take, parm, value)
    if parm ~= "B_PPITCH" then error("the stand-in sets B_PPITCH, not " .. parm, 2) end
    take.preserve_pitch = value ~= 0
    return true
  end)
  -- integer reaper.SetTakeStretchMarker(MediaItem_Take take, integer idx, number pos, optional number srcposIn)
  -- "Adds or updates a stretch marker. If idx<0, stretch marker will be added. [...] Returns index of
  -- stretch marker, or -1 if did not insert (or marker already existed at time)." pos: position in the item.
  def("SetTakeStretchMarker", { "MediaItem_Take", "integer", "number", "number?" }, function(take, idx, pos, srcpos)
    if idx >= 0 then error("the scripts only add stretch markers", 2) end
    local list = take.stretch_markers
    for _, m in ipairs(list) do if m.pos == pos then return -1 end end
    list[#list + 1] = { pos = pos, srcpos = srcpos or pos }
    table.sort(list, function(a, b) return a.pos < b.pos end)
    for i, m in ipairs(list) do if m.pos == pos then return i - 1 end end
  end)
  -- number reaper.GetMediaItemTakeInfo_Value(MediaItem_Take take, string parmname)
  def("GetMediaItemTakeInfo_Value", { "MediaItem_Take", "string" }, function(take, parm)
    if parm == "D_STARTOFFS" then return take.start_offset + 0.0 end
    if parm == "D_PLAYRATE" then return take.playrate + 0.0 end
    if parm == "B_PPITCH" then return take.preserve_pitch and 1.0 or 0.0 end
    error("the stand-in knows D_STARTOFFS, D_PLAYRATE and B_PPITCH, not " .. parm, 2)
  end)
  -- PCM_source reaper.GetMediaSourceParent(PCM_source src): nil when the source has none
  def("GetMediaSourceParent", { "PCM_source" }, function(source) return source.parent end)
  -- boolean retval, number offs, number len, boolean rev = reaper.PCM_Source_GetSectionInfo(PCM_source src)
  def("PCM_Source_GetSectionInfo", { "PCM_source" }, function(source)
    if not source.parent then return false, 0.0, 0.0, false end
    local length = assert(source.length, "the scenario must give a section's length")
    return true, source.offset + 0.0, length + 0.0, source.reverse
  end)
  -- MediaItem_Take reaper.GetActiveTake(MediaItem item)
  def("GetActiveTake", { "MediaItem" }, function(item) return item.active and item.takes[item.active] or nil end)
  -- PCM_source reaper.GetMediaItemTake_Source(MediaItem_Take take)
  def("GetMediaItemTake_Source", { "MediaItem_Take" }, function(take) return take.source end)
  -- string filenamebuf = reaper.GetMediaSourceFileName(PCM_source source)
  def("GetMediaSourceFileName", { "PCM_source" }, function(source) return source.file end)

  --- The project as the scripts left it, for the test's assertions.
  function state.snapshot()
    local tracks = {}
    for i, t in ipairs(state.tracks) do
      local fx = {}
      for j, f in ipairs(t.fx) do fx[j] = { name = f.name, config = json.as_array(f.config) } end
      tracks[i] = { name = t.name, selected = t.selected, fx = json.as_array(fx), items = json.as_array({}) }
    end
    for _, item in ipairs(state.items) do
      local takes = {}
      for j, take in ipairs(item.takes) do takes[j] = (take.source.parent or take.source).file end
      for i, t in ipairs(state.tracks) do
        if t == item.track then
          local list = tracks[i].items
          local active = item.active and item.takes[item.active]
          local markers = {}
          for j, m in ipairs(active and active.stretch_markers or {}) do markers[j] = { m.pos, m.srcpos } end
          list[#list + 1] = {
            position = item.position, takes = json.as_array(takes), active = item.active or 0, selected = item.selected,
            length = item.length, info = json.as_object(item.info),
            preserve_pitch = active and active.preserve_pitch or false, stretch_markers = json.as_array(markers),
          }
        end
      end
    end
    return { tracks = json.as_array(tracks), cursor = state.cursor }
  end

  local since = { set_action_options = 7.03 } -- functions newer than some REAPER versions
  local reaper = setmetatable({}, {
    __index = function(_, name)
      if since[name] and version < since[name] then return nil end
      local fn = api[name]
      if fn then return fn end
      error("reaper." .. tostring(name) .. " is not one of the documented functions the stand-in implements", 2)
    end,
    __newindex = function(_, name) error("scripts must not assign reaper." .. tostring(name), 2) end,
  })
  return reaper, state
end

--- Seconds since boot (sub-second), for time_precise.
function standin.now()
  local f = assert(io.open("/proc/uptime", "r"))
  local seconds = f:read("n")
  f:close()
  return seconds
end

--- Split a command line the way ExecProcess sees it: arguments separated by spaces, double
-- quotes group, a backslash escapes a double quote. No shell: no redirection, pipes or '&'.
function standin.split(cmdline)
  local args, current, quoted, started, i = {}, {}, false, false, 1
  while i <= #cmdline do
    local c = cmdline:sub(i, i)
    if c == "\\" and cmdline:sub(i + 1, i + 1) == '"' then
      current[#current + 1], started, i = '"', true, i + 1
    elseif c == '"' then
      quoted, started = not quoted, true
    elseif c:match("%s") and not quoted then
      if started then args[#args + 1], current, started = table.concat(current), {}, false end
    else
      current[#current + 1], started = c, true
    end
    i = i + 1
  end
  if quoted then error("unbalanced quotes in command line: " .. cmdline) end
  if started then args[#args + 1] = table.concat(current) end
  return args
end

--- Start a command line in the background, without waiting (ExecProcess with -1).
function standin.spawn(cmdline)
  local words = {}
  for i, arg in ipairs(standin.split(cmdline)) do words[i] = "'" .. arg:gsub("'", "'\\''") .. "'" end
  standin.spawned = (standin.spawned or 0) + 1
  return os.execute(table.concat(words, " ") .. " </dev/null >/dev/null 2>&1 &")
end

return standin
