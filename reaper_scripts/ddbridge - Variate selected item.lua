-- @description ddbridge: Variate selected item
-- @version 0.1.0
-- @author ddbridge
-- @about
--   Sends the audio of the selected item's active take to ddbridge as the prompt and adds the
--   variation to the item as a new take.
-- @noindex
-- (ReaPack installs this file with the ddbridge package, see ddbridge.lua.)

local script = select(2, reaper.get_action_context())
package.path = script:match("^(.*[/\\])") .. "?.lua;" .. package.path
local actions = require("ddbridge.actions")
actions.variate(1, nil)
