-- Runs plugin_protocol/test_vectors.json through the REAPER scripts' own client, as a ReaScript
-- under the stand-in (run.lua): each request is decoded and written again by the scripts' JSON
-- module (raw vectors are sent as they are), sent with client.send -- ExecProcess in the
-- background, the reply polled with reaper.defer -- and the decoded reply is checked against
-- the vector's expected shape with the rules of plugin_protocol/spec.md ("Test vectors").
--
-- $DDBRIDGE_SCRIPTS_DIR: the folder holding the installed ddbridge/*.lua modules.
-- $DDBRIDGE_VECTORS_CONFIG: a JSON file {"vectors": path, "variables": {...}, "result": path}.
-- Writes {"names": [...], "failures": [...]} to "result".

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

package.path = assert(os.getenv("DDBRIDGE_SCRIPTS_DIR"), "DDBRIDGE_SCRIPTS_DIR is not set") .. "/?.lua;" .. package.path
local json = require("ddbridge.json")
local client = require("ddbridge.client")
local config = json.decode(read(assert(os.getenv("DDBRIDGE_VECTORS_CONFIG"), "DDBRIDGE_VECTORS_CONFIG is not set")))

local vectors = json.decode(read(config.vectors)).vectors
local variables = {}
for k, v in pairs(config.variables) do variables[k] = v end

-- ${NAME}: a string that is exactly one reference takes the variable's value and type.
local function substitute(value)
  if type(value) == "string" then
    local function get(name)
      if variables[name] == nil then error("the vectors use an unknown variable " .. name, 0) end
      return variables[name]
    end
    local whole = value:match("^%${([A-Z0-9_]+)}$")
    if whole then return get(whole) end
    return (value:gsub("%${([A-Z0-9_]+)}", function(name) return tostring(get(name)) end))
  end
  if type(value) == "table" and value ~= json.null then
    local out = setmetatable({}, getmetatable(value))
    for k, v in pairs(value) do out[k] = substitute(v) end
    return out
  end
  return value
end

local function lookup(value, dotted)
  for part in dotted:gmatch("[^.]+") do
    if json.kind(value) == "array" then value = value[tonumber(part) + 1] else value = value[part] end
  end
  return value
end

local function is_table(v, kind) return type(v) == "table" and v ~= json.null and json.kind(v) == kind end

local TYPES = {
  string = function(v) return type(v) == "string" end,
  integer = function(v) return math.type(v) == "integer" or (math.type(v) == "float" and v == math.floor(v)) end,
  number = function(v) return type(v) == "number" end,
  boolean = function(v) return type(v) == "boolean" end,
  null = function(v) return v == json.null end,
  array = function(v) return is_table(v, "array") end,
  object = function(v) return is_table(v, "object") end,
}

local function show(v)
  local ok, text = pcall(json.encode, v)
  text = ok and text or tostring(v)
  return #text > 80 and text:sub(1, 77) .. "..." or text
end

local function equal(a, b)
  if type(a) == "number" and type(b) == "number" then return math.abs(a - b) <= 1e-9 end
  return a == b
end

local match

local function operators(pattern, actual, where, problems)
  for op, arg in pairs(pattern) do
    if op == "$type" then
      if not TYPES[arg](actual) then
        problems[#problems + 1] = where .. ": expected " .. arg .. ", got " .. show(actual)
      end
    elseif op == "$in" then
      local any = false
      for _, option in ipairs(arg) do if #match(option, actual, where) == 0 then any = true end end
      if not any then problems[#problems + 1] = where .. ": " .. show(actual) .. " matches none of " .. show(arg) end
    elseif op == "$prefix" or op == "$suffix" then
      local ok = type(actual) == "string"
        and (op == "$prefix" and actual:sub(1, #arg) == arg or op == "$suffix" and actual:sub(-#arg) == arg)
      if not ok then problems[#problems + 1] = where .. ": " .. show(actual) .. " lacks " .. op:sub(2) .. " " .. arg end
    elseif op == "$gte" or op == "$lte" then
      local ok = type(actual) == "number" and (op == "$gte" and actual >= arg or op == "$lte" and actual <= arg)
      if not ok then
        problems[#problems + 1] = where .. ": " .. show(actual) .. " is not " .. op:sub(2) .. " " .. arg
      end
    elseif op == "$len" or op == "$min_len" then
      local n = is_table(actual, "array") and #actual or nil
      if n == nil or (op == "$len" and n ~= arg) or (op == "$min_len" and n < arg) then
        local wanted = op:sub(2) .. " " .. arg
        problems[#problems + 1] = where .. ": expected an array with " .. wanted .. ", got " .. show(actual)
      end
    elseif op == "$items" then
      if not is_table(actual, "array") then
        problems[#problems + 1] = where .. ": expected an array"
      else
        for i, item in ipairs(actual) do
          for _, p in ipairs(match(arg, item, where .. "[" .. (i - 1) .. "]")) do problems[#problems + 1] = p end
        end
      end
    else
      problems[#problems + 1] = where .. ": unknown operator " .. op
    end
  end
end

-- Every way `actual` fails `pattern` (empty when it matches).
match = function(pattern, actual, where)
  local problems = {}
  if is_table(pattern, "object") then
    local has_operator = false
    for k in pairs(pattern) do if k:sub(1, 1) == "$" then has_operator = true end end
    if has_operator then
      operators(pattern, actual, where, problems)
    elseif not is_table(actual, "object") then
      problems[1] = where .. ": expected an object, got " .. show(actual)
    else
      for key, sub in pairs(pattern) do
        if actual[key] == nil then
          problems[#problems + 1] = where .. "." .. key .. ": missing"
        else
          for _, p in ipairs(match(sub, actual[key], where .. "." .. key)) do problems[#problems + 1] = p end
        end
      end
    end
  elseif is_table(pattern, "array") then
    if not is_table(actual, "array") or #actual ~= #pattern then
      problems[1] = where .. ": expected an array of " .. #pattern .. ", got " .. show(actual)
    else
      for i, sub in ipairs(pattern) do
        for _, p in ipairs(match(sub, actual[i], where .. "[" .. (i - 1) .. "]")) do problems[#problems + 1] = p end
      end
    end
  elseif not equal(pattern, actual) then
    problems[1] = where .. ": expected " .. show(pattern) .. ", got " .. show(actual)
  end
  return problems
end

local names, failures = json.as_array({}), json.as_array({})

local function finish()
  local f = assert(io.open(config.result, "wb"))
  f:write(json.encode({ names = names, failures = failures }))
  f:close()
end

local function run(index)
  local vector = vectors[index]
  if not vector then return finish() end
  local text, op
  if vector.send_raw ~= nil then
    text = substitute(vector.send_raw)
  else
    local request = substitute(vector.send)
    text, op = json.encode(request), request.op
  end
  local waits = op == "generate" or op == "variate" or op == "interpolate" or op == "extend"
  local function record(problem)
    names[#names + 1] = vector.name
    if problem then failures[#failures + 1] = vector.name .. ": " .. problem end
  end
  local started, why = client.send(text, {
    waits = waits,
    on_reply = function(reply)
      local problems = match(substitute(vector.expect), reply, "$")
      record(#problems > 0 and table.concat(problems, "; ") or nil)
      if #problems == 0 then
        for name, dotted in pairs(vector.save or {}) do variables[name] = lookup(reply, dotted) end
      end
      run(index + 1)
    end,
    on_failure = function(message)
      record("no reply: " .. message)
      run(index + 1)
    end,
  })
  if not started then
    record("not sent: " .. why)
    run(index + 1)
  end
end

run(1)
