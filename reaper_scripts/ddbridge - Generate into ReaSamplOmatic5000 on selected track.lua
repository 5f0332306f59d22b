-- @description ddbridge: Generate into ReaSamplOmatic5000 on selected track
-- @version 0.1.0
-- @author ddbridge
-- @about
--   Asks for a category, generates one sound and loads it into the first ReaSamplOmatic5000 on the
--   selected track (adding one when the track has none).
-- @noindex
-- (ReaPack installs this file with the ddbridge package, see ddbridge.lua.)

local script = select(2, reaper.get_action_context())
package.path = script:match("^(.*[/\\])") .. "?.lua;" .. package.path
local actions = require("ddbridge.actions")
actions.generate_into_sampler()
