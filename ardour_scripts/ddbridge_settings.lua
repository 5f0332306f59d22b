ardour {
  ["type"]    = "EditorAction",
  name        = "ddbridge: Settings",
  license     = "MIT",
  author      = "ddbridge",
  description = [[The ddbridge command (its full path when Ardour does not find it on PATH), the daemon's address and the timeouts; then checks that the daemon answers.]]
}

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
  gui.settings ()
end end
