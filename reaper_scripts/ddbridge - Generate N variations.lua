-- @description ddbridge: Generate N variations of selected item
-- @version 0.1.0
-- @author ddbridge
-- @about
--   Asks how many variations (1-16) and how strong, then adds each variation of the selected item's
--   audio to the item as a new take.
-- @noindex
-- (ReaPack installs this file with the ddbridge package, see ddbridge.lua.)

local script = select(2, reaper.get_action_context())
package.path = script:match("^(.*[/\\])") .. "?.lua;" .. package.path
local actions = require("ddbridge.actions")
actions.variations_dialog()
