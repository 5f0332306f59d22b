-- Runs one ReaScript under the stand-in `reaper` table, the way REAPER does: the script's main
-- chunk first, then every function it hands to reaper.defer, about 30 times a second, until no
-- more are pending. Any error (including a call to a function the stand-in does not implement)
-- stops the run. Writes what happened to RECORD as JSON.
--
-- usage: lua5.4 run.lua SCENARIO.json RECORD.json
--
-- SCENARIO: {"script": path of the script, "project_path": ..., "project_file": .rpp path ("" unsaved),
--   "save_as": .rpp path the Save As dialog returns, "mb_answers": [MB return values],
--   "last_touched": 1-based track index, "launches": [{"script", "at_tick"}], "reaper_version": 7.03,
--   "project_srate": 48000 | null,
--   "cursor": seconds, "tracks": [{"name", "selected", "fx": [names]}],
--   "items": [{"track": 1-based index, "position", "takes": [files], "selected"}],
--   "extstate": {section: {key: value}}, "user_inputs": [{"ok": bool, "answer": csv}],
--   "stall_seconds": how long the run may go on without starting a process while a script still
--     defers (default 120: longer than any deadline the scripts' client sets with the tests'
--     settings, so that a request that never ends is reported by the client itself),
--   "heartbeat": a file rewritten about once a second while the loop turns (the test's watchdog)}
--
-- Neither limit counts the whole run: a run of many requests (the protocol's vectors) may take as
-- long as the machine needs, as long as each request ends.

local here = arg[0]:match("^(.*[/\\])") or "./"
local json = dofile(here .. "../../reaper_scripts/ddbridge/json.lua")
local standin = dofile(here .. "standin.lua")

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local scenario = json.decode(read(arg[1]))
local api, state = standin.new(scenario, json)

-- Each run of a script is an instance with its own Lua globals and modules, as in REAPER; they
-- share the `reaper` table (one REAPER). Launching a script while an instance of it still defers is
-- what REAPER's task control handles: set_action_options(1) ends the old instance (|2: and starts
-- the new one); without it REAPER asks in a dialog ("script is already running"), recorded here.
local instances = {}

local function new_environment(script_path)
  local env = setmetatable({ reaper = api }, { __index = _G })
  env._G = env
  local pkg = setmetatable({ loaded = {} }, { __index = package })
  pkg.path = package.path
  env.package = pkg
  env.require = function(name)
    if pkg.loaded[name] ~= nil then return pkg.loaded[name] end
    local file = assert(package.searchpath(name, pkg.path))
    local module = assert(loadfile(file, "t", env))(name)
    pkg.loaded[name] = module == nil and true or module
    return pkg.loaded[name]
  end
  return env
end

local function running(script_path)
  for _, d in ipairs(state.defers) do
    if d.instance and d.instance.script == script_path and not d.instance.ended then return d.instance end
  end
end

local function launch(script_path)
  local previous = running(script_path)
  if previous then
    local options = previous.options or 0
    if options & 1 == 0 then
      state.dialogs[#state.dialogs + 1] = "already running: " .. script_path
      return nil
    end
    previous.ended = true -- REAPER stops its deferred functions
    if options & 2 == 0 then return nil end
  end
  local instance = { script = script_path, env = new_environment(script_path) }
  instances[#instances + 1] = instance
  local chunk, load_err = loadfile(script_path, "t", instance.env)
  if not chunk then return load_err end
  state.instance = instance
  local ok, e = xpcall(chunk, debug.traceback)
  state.instance = nil
  if not ok then return e end
end

local started = standin.now()
local err = launch(scenario.script)
local later = {} -- {script, at_tick}: the same or other actions run while the first still works
for _, l in ipairs(scenario.launches or {}) do later[#later + 1] = l end

local function beat(ticks)
  if not scenario.heartbeat then return end
  local f = assert(io.open(scenario.heartbeat, "wb"))
  f:write(tostring(ticks))
  f:close()
end

local ticks, spawned, progressed, beaten = 0, 0, started, started
local stall = scenario.stall_seconds or 120
while not err and (#state.defers > 0 or #later > 0) do
  local now = standin.now()
  if (standin.spawned or 0) ~= spawned then spawned, progressed = standin.spawned, now end
  if now - progressed > stall then
    err = string.format("the script still deferred %g s after it last started a process", stall)
    break
  end
  if now - beaten >= 1 then
    beat(ticks)
    beaten = now
  end
  os.execute("sleep 0.03")
  ticks = ticks + 1
  for i = #later, 1, -1 do
    if later[i].at_tick <= ticks then
      local script = table.remove(later, i).script
      err = err or launch(script ~= "" and script or scenario.script) -- "": the same action again
    end
  end
  local batch = state.defers
  state.defers = {}
  for _, d in ipairs(batch) do
    if not (d.instance and d.instance.ended) then
      state.instance = d.instance
      local ok, e = xpcall(d.fn, debug.traceback)
      state.instance = nil
      if not ok then
        err = e
        break
      end
    end
  end
end
if not err and state.undo_depth ~= 0 then err = "the script left an undo block open" end

local record = {
  error = err or json.null,
  seconds = standin.now() - started,
  ticks = ticks,
  spawned = standin.spawned or 0,
  calls = json.as_array(state.calls),
  console = table.concat(state.console),
  messages = json.as_array(state.messages),
  prompts = json.as_array(state.prompts or {}),
  dialogs = json.as_array(state.dialogs),
  instances = #instances,
  undo_blocks = json.as_array(state.undo_blocks),
  extstate = state.extstate,
  project = state.snapshot(),
}
local f = assert(io.open(arg[2], "wb"))
f:write(json.encode(record))
f:close()
if err then io.stderr:write(tostring(err), "\n") end
os.exit(err and 1 or 0)
