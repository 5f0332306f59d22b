-- @description ddbridge: Generate a sound at the edit cursor
-- @version 0.1.0
-- @author ddbridge
-- @about
--   Asks the ddbridge daemon for a new sound and inserts it on the selected track at the edit cursor.
--   Installed once per category as "ddbridge - Generate <category> at edit cursor" (the category comes
--   from the file name); under this name it asks for the category.
-- @noindex
-- (ReaPack installs this file with the ddbridge package, see ddbridge.lua.)

local script = select(2, reaper.get_action_context())
package.path = script:match("^(.*[/\\])") .. "?.lua;" .. package.path
local actions = require("ddbridge.actions")
actions.generate_at_cursor(actions.category_from_script(script))
