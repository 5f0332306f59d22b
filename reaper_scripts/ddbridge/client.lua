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

--- Send one request to the daemon in the background.
-- `message` is a table (written as JSON; "v" and "id" are added when missing) or a string sent as is.
-- `handlers.on_reply(reply)` gets the daemon's reply (ok or not, or an "unavailable" error
-- reply when the daemon is down); `handlers.on_failure(text)` is called when no reply comes
-- back at all (the helper could not start, or exceeded every timeout).
-- `handlers.waits` tells whether the request waits for a job (longer deadline).
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
  local job, bad_job = client.seconds("job_timeout")
  if not (connect and job) then return nil, bad_connect or bad_job end

  local base = temp_dir() .. SEP .. "ddbridge-" .. client.new_id()
  local request_path, reply_path = base .. ".request.json", base .. ".reply.json"
  local written, err = write_file(request_path, text)
  if not written then return nil, "Cannot write the request file: " .. tostring(err) end

  local ok, cmd = pcall(client.command_line, {
    executable, "request", "send", request_path,
    "--result-file", reply_path,
    "--endpoint", client.setting("endpoint"),
    "--timeout", connect, "--retries", 1,
    "--job-timeout", job,
  })
  if not ok then
    os.remove(request_path)
    return nil, cmd
  end
  reaper.ExecProcess(cmd, WINDOWS and -2 or -1) -- no wait (-2: and minimize, so no console window shows)

  local allowed = STARTUP_GRACE + connect + (handlers.waits and job or connect)
  local deadline = reaper.time_precise() + allowed
  local function poll()
    local reply_text = read_file(reply_path)
    if reply_text then
      os.remove(reply_path)
      os.remove(request_path)
      local decoded, reply = pcall(json.decode, reply_text)
      if not decoded then
        handlers.on_failure("ddbridge sent a reply that is not JSON: " .. reply)
      else
        handlers.on_reply(reply)
      end
    elseif reaper.time_precise() > deadline then
      os.remove(request_path)
      local text = "No answer from the ddbridge command within %g s.\n\nCommand: %s"
      handlers.on_failure(string.format(text, allowed, cmd))
    else
      reaper.defer(poll)
    end
  end
  reaper.defer(poll)
  return true
end

return client
