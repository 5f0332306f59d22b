-- @noindex
-- Talks to the ddbridge daemon from REAPER without blocking its UI.
--
-- REAPER's Lua has no sockets, so each request is written to a temporary JSON file and handed
-- to `ddbridge request send FILE --result-file REPLY`, started in the background with
-- reaper.ExecProcess(cmd, -1) (-2 on Windows, minimized). That command pings the daemon, sends
-- the file's bytes, and writes the daemon's reply atomically (temp file + rename). The script
-- polls for the reply with reaper.defer, so REAPER stays responsive while a sound is generated.

local json = require("ddbridge.json")

local client = {}

--- ExtState section holding the settings (persisted across REAPER restarts).
client.SECTION = "ddbridge"

--- Settings and their defaults; change them with "ddbridge - Settings.lua".
client.DEFAULTS = {
  executable = "ddbridge",            -- full path, or a name found on PATH
  endpoint = "tcp://127.0.0.1:5555",  -- the daemon's ZeroMQ address
  connect_timeout = "5",              -- seconds the daemon has to answer a ping
  job_timeout = "300",                -- seconds a job has to deliver its files
}

-- Seconds granted on top of the timeouts for the helper process to start and write its reply.
local STARTUP_GRACE = 20

local WINDOWS = package.config:sub(1, 1) == "\\"
local SEP = WINDOWS and "\\" or "/"

--- The value of a setting (ExtState, else its default).
function client.setting(key)
  local value = reaper.GetExtState(client.SECTION, key)
  if value == "" then return client.DEFAULTS[key] end
  return value
end

--- Store a setting persistently.
function client.set_setting(key, value)
  reaper.SetExtState(client.SECTION, key, value, true)
end

--- A number setting, or nil plus a message when it is not a positive number.
function client.seconds(key)
  local value = tonumber(client.setting(key))
  if not value or value <= 0 then
    local text = "The setting '%s' must be a positive number of seconds, not '%s'."
    return nil, string.format(text, key, client.setting(key))
  end
  return value
end

--- One argument quoted for ExecProcess's command line.
-- Every argument is put in double quotes. Characters that a command line cannot carry the
-- same way on every system (quotes, '$', '`', line breaks) are refused with an error.
function client.quote(arg)
  arg = tostring(arg)
  local bad = arg:match('["$`\r\n%z]')
  if bad then
    local what = ({ ['"'] = "a double quote", ["$"] = "'$'", ["`"] = "'`'" })[bad] or "a control character"
    error(string.format("cannot pass '%s' on a command line: it contains %s", arg:gsub("%c", "?"), what), 0)
  end
  if WINDOWS then arg = arg:gsub("(\\+)$", "%1%1") end -- a backslash run before the closing quote is doubled
  return '"' .. arg .. '"'
end

--- The command line for a list of arguments.
function client.command_line(args)
  local quoted = {}
  for i, arg in ipairs(args) do quoted[i] = client.quote(arg) end
  return table.concat(quoted, " ")
end

--- The full path of the ddbridge executable, or nil and a message saying how to fix it.
function client.find_executable()
  local name = client.setting("executable")
  if name:find("[/\\]") then
    if reaper.file_exists(name) then return name end
    return nil, string.format("The ddbridge command '%s' does not exist.", name)
  end
  local suffixes = WINDOWS and { ".exe", ".cmd", ".bat", "" } or { "" }
  for dir in (os.getenv("PATH") or ""):gmatch(WINDOWS and "[^;]+" or "[^:]+") do
    for _, suffix in ipairs(suffixes) do
      local candidate = dir .. SEP .. name .. suffix
      if reaper.file_exists(candidate) then return candidate end
    end
  end
  return nil, string.format("The ddbridge command '%s' was not found on REAPER's PATH.", name)
end

local function temp_dir()
  local dir = os.getenv("TMPDIR") or os.getenv("TEMP") or os.getenv("TMP")
    or (WINDOWS and "C:\\Windows\\Temp" or "/tmp")
  return (dir:gsub("[/\\]+$", ""))
end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  f:write(text)
  f:close()
  return true
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

--- A fresh request id.
function client.new_id()
  return string.format("reaper-%d-%08x", os.time(), math.random(0, 0x7fffffff))
end

-- Jobs that wait for their reply. Each script instance polls its own with one reaper.defer loop.
-- Jobs started with a `handler` name are also kept in a (non-persistent) ExtState list per action,
-- so that when REAPER ends an instance because the same action runs again (set_action_options 1|2,
-- REAPER 7.03+), the new instance takes them over once the old one has stopped beating.
local JOBS = "ddbridge.jobs"
local ADOPT_AFTER = 1.0 -- seconds without a heartbeat after which an instance counts as ended

--- Completion handlers for resumable jobs: name -> function(data, reply, failure_text).
client.handlers = {}

local active = {}       -- this instance's jobs
local polling = false
local instance = nil    -- this instance's id (its heartbeat key)

local function action_key()
  return (select(2, reaper.get_action_context()))
end

local function stored_jobs()
  local text = reaper.GetExtState(JOBS, action_key())
  if text == "" then return {} end
  local ok, list = pcall(json.decode, text)
  return ok and type(list) == "table" and list or {}
end

local function store_jobs(list)
  reaper.SetExtState(JOBS, action_key(), json.encode(json.as_array(list)), false)
end

local function heartbeat_age(owner)
  local beat = tonumber(reaper.GetExtState(JOBS, "alive " .. tostring(owner)))
  return beat and reaper.time_precise() - beat or math.huge
end

-- Take over stored jobs whose instance has ended; returns every stored job of this action.
local function adopt()
  local list, changed = stored_jobs(), false
  for _, job in ipairs(list) do
    if job.owner ~= instance and heartbeat_age(job.owner) > ADOPT_AFTER then
      reaper.DeleteExtState(JOBS, "alive " .. tostring(job.owner), false)
      job.owner, changed = instance, true
      active[#active + 1] = job
    end
  end
  if changed then store_jobs(list) end
  return list
end

local function forget(job)
  if not job.handler then return end
  local kept = {}
  for _, other in ipairs(stored_jobs()) do if other.reply ~= job.reply then kept[#kept + 1] = other end end
  store_jobs(kept)
end

local function finish(job, reply, failure)
  forget(job)
  if not job.handler then
    if reply then return job.on_reply(reply) end
    return job.on_failure(failure)
  end
  local handler = client.handlers[job.handler]
  if not handler then return reaper.ShowConsoleMsg("ddbridge: no handler '" .. job.handler .. "' for a job\n") end
  handler(job.data, reply, failure)
end

-- true once the job is over, with its reply or the reason there is none.
local function check(job)
  local reply_text = read_file(job.reply)
  if reply_text then
    os.remove(job.reply)
    os.remove(job.request)
    local decoded, reply = pcall(json.decode, reply_text)
    if not decoded then return true, nil, "ddbridge sent a reply that is not JSON: " .. reply end
    return true, reply
  elseif reaper.time_precise() > job.deadline then
    os.remove(job.request)
    return true, nil, string.format("No answer from the ddbridge command within %g s.\n\nCommand: %s", job.allowed, job.cmd)
  end
  return false
end

local function poll()
  reaper.SetExtState(JOBS, "alive " .. instance, tostring(reaper.time_precise()), false)
  local others = 0
  for _, job in ipairs(adopt()) do if job.owner ~= instance then others = others + 1 end end
  local i = 1
  while active[i] do
    local job = active[i]
    local done, reply, failure = check(job)
    if done then
      table.remove(active, i)
      finish(job, reply, failure) -- may start another job (appended to `active`)
    else
      i = i + 1
    end
  end
  if #active > 0 or others > 0 then return reaper.defer(poll) end
  polling = false
  reaper.DeleteExtState(JOBS, "alive " .. instance, false)
end

--- Poll (once per instance) for this instance's jobs and for the stored jobs of this action.
function client.resume()
  instance = instance or client.new_id()
  if polling or (#active == 0 and #stored_jobs() == 0) then return end
  polling = true
  reaper.defer(poll)
end

--- Send one request to the daemon in the background.
-- `message` is a table (written as JSON; "v" and "id" are added when missing) or a string sent as is.
-- `handlers.waits` tells whether the request waits for a job (longer deadline). The outcome goes
-- either to `handlers.handler` (a name in client.handlers, called with `handlers.data`, the reply
-- or nil, and a failure text; such a job survives the action being run again) or to the functions
-- `handlers.on_reply(reply)` (the daemon's reply, ok or not, or an "unavailable" error reply when
-- the daemon is down) and `handlers.on_failure(text)` (no reply at all: every timeout passed).
-- Returns true once started, or nil and a message saying why it could not start.
function client.send(message, handlers)
  local text = message
  if type(message) == "table" then
    message.v = message.v or 1
    message.id = message.id or client.new_id()
    text = json.encode(message)
  end
  local executable, problem = client.find_executable()
  if not executable then return nil, problem end
  local connect, bad_connect = client.seconds("connect_timeout")
  local job_seconds, bad_job = client.seconds("job_timeout")
  if not (connect and job_seconds) then return nil, bad_connect or bad_job end

  local base = temp_dir() .. SEP .. "ddbridge-" .. client.new_id()
  local request_path, reply_path = base .. ".request.json", base .. ".reply.json"
  local written, err = write_file(request_path, text)
  if not written then return nil, "Cannot write the request file: " .. tostring(err) end

  local ok, cmd = pcall(client.command_line, {
    executable, "request", "send", request_path,
    "--result-file", reply_path,
    "--endpoint", client.setting("endpoint"),
    "--timeout", connect, "--retries", 1,
    "--job-timeout", job_seconds,
  })
  if not ok then
    os.remove(request_path)
    return nil, cmd
  end
  -- no wait (-2: and minimize, so no console window shows); nil when the command cannot start at all
  if reaper.ExecProcess(cmd, WINDOWS and -2 or -1) == nil then
    os.remove(request_path)
    return nil, "The ddbridge command could not be started:\n\n" .. cmd
  end

  local allowed = STARTUP_GRACE + connect + (handlers.waits and job_seconds or connect)
  instance = instance or client.new_id()
  reaper.SetExtState(JOBS, "alive " .. instance, tostring(reaper.time_precise()), false) -- not adoptable
  local job = {
    request = request_path, reply = reply_path, cmd = cmd, allowed = allowed,
    deadline = reaper.time_precise() + allowed, owner = instance,
    handler = handlers.handler, data = handlers.data,
  }
  if job.handler then
    local list = stored_jobs()
    list[#list + 1] = job
    store_jobs(list)
  else
    job.on_reply, job.on_failure = handlers.on_reply, handlers.on_failure
  end
  active[#active + 1] = job
  client.resume()
  return true
end

return client
