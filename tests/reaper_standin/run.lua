-- Runs one ReaScript under the stand-in `reaper` table, the way REAPER does: the script's main
-- chunk first, then every function it hands to reaper.defer, about 30 times a second, until no
-- more are pending. Any error (including a call to a function the stand-in does not implement)
-- stops the run. Writes what happened to RECORD as JSON.
--
-- usage: lua5.4 run.lua SCENARIO.json RECORD.json
--
-- SCENARIO: {"script": path of the script, "project_path": ..., "project_srate": 48000 | null,
--   "cursor": seconds, "tracks": [{"name", "selected", "fx": [names]}],
--   "items": [{"track": 1-based index, "position", "takes": [files], "selected"}],
--   "extstate": {section: {key: value}}, "user_inputs": [{"ok": bool, "answer": csv}],
--   "max_seconds": safety limit}

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
reaper = api -- a global, as in REAPER

local started = standin.now()
local err
local chunk, load_err = loadfile(scenario.script)
if not chunk then
  err = load_err
else
  local ok, e = xpcall(chunk, debug.traceback)
  if not ok then err = e end
end

local ticks = 0
while not err and #state.defers > 0 do
  if standin.now() - started > (scenario.max_seconds or 60) then
    err = string.format("the script was still deferring after %g s", scenario.max_seconds or 60)
    break
  end
  os.execute("sleep 0.03")
  local batch = state.defers
  state.defers = {}
  ticks = ticks + 1
  for _, fn in ipairs(batch) do
    local ok, e = xpcall(fn, debug.traceback)
    if not ok then
      err = e
      break
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
  undo_blocks = json.as_array(state.undo_blocks),
  extstate = state.extstate,
  project = state.snapshot(),
}
local f = assert(io.open(arg[2], "wb"))
f:write(json.encode(record))
f:close()
if err then io.stderr:write(tostring(err), "\n") end
os.exit(err and 1 or 0)
