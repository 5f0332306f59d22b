ardour {
  ["type"]    = "EditorAction",
  name        = "ddbridge: Variate selected region",
  license     = "MIT",
  author      = "ddbridge",
  description = [[Sends the part of its file that the selected region plays to the ddbridge daemon and puts the variations at the region's position: on top of it on its track, or each on a new track.]]
}

function action_params ()
  return {
    ["strength"] = { title = "Strength, above 0 up to 1 (empty: ask)", default = "", optional = true },
    ["count"] = { title = "How many (empty: ask)", default = "", optional = true },
    ["where"] = { title = "Put them: top (of the region) or tracks (empty: ask)", default = "", optional = true },
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
  gui.variate (params)
end end
