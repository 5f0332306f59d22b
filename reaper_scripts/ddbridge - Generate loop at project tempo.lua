-- @description ddbridge: Generate a loop at the project tempo
-- @version 0.1.0
-- @author ddbridge
-- @about
--   Asks the ddbridge daemon for a drum loop of 1, 2 or 4 bars of a genre at the project's tempo at the
--   edit cursor and inserts it there on the selected track: looped, with a beats timebase that
--   follows the project's tempo, stretched onto the beats where the tempo changes within it.
-- @noindex
-- (ReaPack installs this file with the ddbridge package, see ddbridge.lua.)

local script = select(2, reaper.get_action_context())
package.path = script:match("^(.*[/\\])") .. "?.lua;" .. package.path
local actions = require("ddbridge.actions")
actions.generate_loop()
