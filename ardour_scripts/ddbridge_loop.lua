ardour {
  ["type"]    = "EditorAction",
  name        = "ddbridge: Generate loop at session tempo",
  license     = "MIT",
  author      = "ddbridge",
  description = [[Asks the ddbridge daemon for a drum loop of N bars at the tempo map's tempo at the playhead and puts it there, on the selected audio track or a new one.]]
}

function action_params ()
  return {
    ["genre"] = { title = "Genre: any, house, techno, hiphop, trap, breakbeat, dnb, electro (empty: ask)", default = "", optional = true },
    ["bars"] = { title = "Bars: 1, 2 or 4 (empty: ask)", default = "", optional = true },
    ["count"] = { title = "How many (empty: ask)", default = "", optional = true },
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
  gui.loop (params)
end end
