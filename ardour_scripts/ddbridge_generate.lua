ardour {
  ["type"]    = "EditorAction",
  name        = "ddbridge: Generate at playhead",
  license     = "MIT",
  author      = "ddbridge",
  description = [[Asks the ddbridge daemon for new sounds (a category, how many, how long) and puts them at the playhead: on the selected audio track one after another, or each on a new track. Leave a parameter empty to be asked each time; set the category to make a button for it (e.g. kick).]]
}

function action_params ()
  return {
    ["category"] = { title = "Category (empty: ask each time)", default = "", optional = true },
    ["count"] = { title = "How many (empty: ask)", default = "", optional = true },
    ["seconds"] = { title = "Length in seconds, 0 for the model's own (empty: ask)", default = "", optional = true },
    ["where"] = { title = "Several sounds go: after (on the selected track) or tracks (empty: ask)", default = "", optional = true },
  }
end

function factory (params) return function ()
  -- Action scripts keep only this function (Ardour stores its bytecode), so everything it needs
  -- is found at run time: the ddbridge folder beside the scripts in Ardour's scripts folder.
  local dirs = { ARDOUR.user_config_directory (-1) .. "/scripts" }
  for dir in (os.getenv ("ARDOUR_DATA_PATH") or ""):gmatch ("[^:;]+") do dirs[#dirs + 1] = dir .. "/scripts" end
  local gui
  for _, dir in ipairs (dirs) do
    local file = io.open (dir .. "/ddbridge/gui.lua", "rb")
    if file then
      file:close ()
      gui = assert (loadfile (dir .. "/ddbridge/gui.lua")) (dir .. "/ddbridge")
      break
    end
  end
  if not gui then
    LuaDialog.Message ("ddbridge", "The folder 'ddbridge' was not found in " .. table.concat (dirs, " or ")
      .. ".\n\nCopy it there beside the ddbridge scripts (see ardour_scripts/README.md).",
      LuaDialog.MessageType.Error, LuaDialog.ButtonType.Close):run ()
    return
  end
  gui.generate (params)
end end
