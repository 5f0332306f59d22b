-- @description ddbridge: Settings
-- @version 0.1.0
-- @author ddbridge
-- @about
--   Sets the ddbridge command (full path when REAPER does not see it on PATH), the daemon's address
--   and the timeouts, then checks that the daemon answers.
-- @noindex
-- (ReaPack installs this file with the ddbridge package, see ddbridge.lua.)

local script = select(2, reaper.get_action_context())
package.path = script:match("^(.*[/\\])") .. "?.lua;" .. package.path
local actions = require("ddbridge.actions")
actions.settings_dialog()
