-- ddbridge for Ardour: the GUI layer of the actions (dialogs, messages, the editor's selection and
-- Ardour's own import). Everything else is in core.lua, which the tests run headless.
--
-- Loaded with loadfile(<folder>/gui.lua)(<folder>) by the action scripts.

local folder = ...
local core = assert(loadfile(folder .. "/core.lua"))(folder)

local gui = { core = core }

local function message(text)
  io.stderr:write("ddbridge: ", text, "\n") -- for a terminal Ardour was started from
  LuaDialog.Message("ddbridge", text, LuaDialog.MessageType.Info, LuaDialog.ButtonType.Close):run()
end

local function ask(dialog)
  return LuaDialog.Dialog(dialog.title, dialog.fields):run()
end

-- Ardour's import (Session > Import, "as region"): the file is copied into the session's
-- interchange/<session>/audiofiles folder and becomes a whole-file region in the region list.
-- Returns that region, which core.place copies onto a track as part of its one undo step.
local function import(path)
  local before = {}
  for id, _ in ARDOUR.RegionFactory.regions():iter() do before[id:to_s()] = true end
  local files = C.StringVector()
  files:push_back(path)
  local pos = Temporal.timepos_t(0)
  Editor:do_import(files, Editing.ImportDistinctFiles, Editing.ImportAsRegion, ARDOUR.SrcQuality.SrcBest,
    ARDOUR.MidiTrackNameSource.SMFTrackName, ARDOUR.MidiTempoMapDisposition.SMFTempoIgnore,
    pos, ARDOUR.PluginInfo(), ARDOUR.Track(), false)
  for id, region in ARDOUR.RegionFactory.regions():iter() do
    if not before[id:to_s()] and region:whole_file() and not region:to_audioregion():isnil() then return region end
  end
  return nil, "the import was cancelled or failed (see Window > Log)"
end

local function selected_track()
  return core.first_audio_track(Editor:get_selection().tracks:routelist())
end

local function selected_region()
  for region in Editor:get_selection().regions:regionlist():iter() do
    if not region:to_audioregion():isnil() then return region end
  end
  return nil
end

--- The `ui` table core.lua's actions take, filled from the editor.
function gui.ui()
  return { ask = ask, message = message, import = import, track = selected_track(), region = selected_region() }
end

local function run(action, params)
  local ok, err = pcall(action, Session, gui.ui(), params or {})
  if not ok then message("ddbridge stopped with an error:\n\n" .. tostring(err)) end
end

function gui.generate(params) run(core.generate, params) end
function gui.loop(params) run(core.loop, params) end
function gui.variate(params) run(core.variate, params) end
function gui.settings() run(function(session, ui) return core.settings(session, ui) end) end

return gui
