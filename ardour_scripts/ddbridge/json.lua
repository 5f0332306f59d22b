-- JSON for the ddbridge Ardour scripts: encode Lua values, decode replies.
-- (The same code as reaper_scripts/ddbridge/json.lua below this header; a test keeps them equal.)
--
-- Decoded arrays and objects carry a metatable (json.array / json.object) so that an
-- empty [] and an empty {} stay distinguishable; JSON null decodes to json.null.
-- Integers stay Lua integers, other numbers become floats.

local json = {}

json.null = setmetatable({}, { __name = "json.null", __tostring = function() return "null" end })
json.array = { __name = "json.array" }
json.object = { __name = "json.object" }

--- A table marked as a JSON array (for encoding an empty one, or a literal).
function json.as_array(t) return setmetatable(t or {}, json.array) end

--- A table marked as a JSON object.
function json.as_object(t) return setmetatable(t or {}, json.object) end

--- "array" or "object": how a table is (or will be) written.
function json.kind(t)
  local mt = getmetatable(t)
  if mt == json.array then return "array" end
  if mt == json.object then return "object" end
  local n = #t
  if n == 0 then return "object" end
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return "object" end
  end
  return "array"
end

local ESCAPES = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function encode_number(x)
  if math.type(x) == "integer" then return string.format("%d", x) end
  if x ~= x or x == math.huge or x == -math.huge then
    error("JSON has no NaN or infinity", 0)
  end
  if x == math.floor(x) and math.abs(x) < 2^53 then return string.format("%.1f", x) end
  return string.format("%.17g", x)
end

local encode

local function encode_table(t, depth)
  if depth > 64 then error("value nested too deeply for JSON", 0) end
  local parts = {}
  if json.kind(t) == "array" then
    for i = 1, #t do parts[i] = encode(t[i], depth + 1) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then error("JSON object keys must be strings, got " .. type(k), 0) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for i, k in ipairs(keys) do parts[i] = encode_string(k) .. ":" .. encode(t[k], depth + 1) end
  return "{" .. table.concat(parts, ",") .. "}"
end

encode = function(v, depth)
  local kind = type(v)
  if v == json.null or v == nil then return "null" end
  if kind == "boolean" then return tostring(v) end
  if kind == "number" then return encode_number(v) end
  if kind == "string" then return encode_string(v) end
  if kind == "table" then return encode_table(v, depth) end
  error("cannot write a " .. kind .. " as JSON", 0)
end

--- The JSON text of a Lua value (strings must be UTF-8). Raises on NaN, infinity, functions.
function json.encode(v) return encode(v, 0) end

-- Decoding ------------------------------------------------------------------------------

local function fail(text, pos, what)
  error(string.format("invalid JSON at character %d: %s", pos, what), 0)
end

local function skip(text, pos)
  return text:find("[^ \t\r\n]", pos) or #text + 1
end

local decode_value

local function decode_string(text, pos)
  local parts, i = {}, pos + 1
  while true do
    local j = text:find('["\\%c]', i)
    if not j then fail(text, pos, "unterminated string") end
    parts[#parts + 1] = text:sub(i, j - 1)
    local c = text:sub(j, j)
    if c == '"' then return table.concat(parts), j + 1 end
    if c ~= "\\" then fail(text, j, "control character in a string") end
    local e = text:sub(j + 1, j + 1)
    local simple = ({ ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" })[e]
    if simple then
      parts[#parts + 1], i = simple, j + 2
    elseif e == "u" then
      local hex = text:match("^%x%x%x%x", j + 2)
      if not hex then fail(text, j, "bad \\u escape") end
      local code = tonumber(hex, 16)
      i = j + 6
      if code >= 0xD800 and code <= 0xDBFF then
        local low = text:match("^\\u(%x%x%x%x)", i)
        local lo = low and tonumber(low, 16)
        if not lo or lo < 0xDC00 or lo > 0xDFFF then fail(text, j, "lone surrogate") end
        code = 0x10000 + ((code - 0xD800) << 10) + (lo - 0xDC00)
        i = i + 6
      elseif code >= 0xDC00 and code <= 0xDFFF then
        fail(text, j, "lone surrogate")
      end
      parts[#parts + 1] = utf8.char(code)
    else
      fail(text, j, "bad escape")
    end
  end
end

local function decode_number(text, pos)
  local i = pos
  if text:sub(i, i) == "-" then i = i + 1 end
  local digits = text:match("^%d+", i)
  if not digits or (#digits > 1 and digits:sub(1, 1) == "0") then fail(text, pos, "bad number") end
  i = i + #digits
  local whole = true
  local frac = text:match("^%.%d+", i)
  if frac then
    i, whole = i + #frac, false
  elseif text:sub(i, i) == "." then
    fail(text, pos, "bad number")
  end
  local exp = text:match("^[eE][-+]?%d+", i)
  if exp then
    i, whole = i + #exp, false
  elseif text:match("^[eE]", i) then
    fail(text, pos, "bad number")
  end
  local s = text:sub(pos, i - 1)
  return whole and math.tointeger(tonumber(s)) or tonumber(s) + 0.0, i
end

local function decode_array(text, pos, depth)
  local out = json.as_array({})
  pos = skip(text, pos + 1)
  if text:sub(pos, pos) == "]" then return out, pos + 1 end
  while true do
    out[#out + 1], pos = decode_value(text, pos, depth + 1)
    pos = skip(text, pos)
    local c = text:sub(pos, pos)
    if c == "]" then return out, pos + 1 end
    if c ~= "," then fail(text, pos, "expected ',' or ']'") end
    pos = skip(text, pos + 1)
  end
end

local function decode_object(text, pos, depth)
  local out = json.as_object({})
  pos = skip(text, pos + 1)
  if text:sub(pos, pos) == "}" then return out, pos + 1 end
  while true do
    if text:sub(pos, pos) ~= '"' then fail(text, pos, "expected a string key") end
    local key
    key, pos = decode_string(text, pos)
    pos = skip(text, pos)
    if text:sub(pos, pos) ~= ":" then fail(text, pos, "expected ':'") end
    out[key], pos = decode_value(text, skip(text, pos + 1), depth + 1)
    pos = skip(text, pos)
    local c = text:sub(pos, pos)
    if c == "}" then return out, pos + 1 end
    if c ~= "," then fail(text, pos, "expected ',' or '}'") end
    pos = skip(text, pos + 1)
  end
end

local LITERALS = { ["true"] = true, ["false"] = false, null = json.null }

decode_value = function(text, pos, depth)
  if depth > 64 then fail(text, pos, "nested too deeply") end
  local c = text:sub(pos, pos)
  if c == "{" then return decode_object(text, pos, depth) end
  if c == "[" then return decode_array(text, pos, depth) end
  if c == '"' then return decode_string(text, pos) end
  if c == "-" or c:match("%d") then return decode_number(text, pos) end
  for word, value in pairs(LITERALS) do
    if text:sub(pos, pos + #word - 1) == word then return value, pos + #word end
  end
  fail(text, pos, c == "" and "unexpected end" or "unexpected '" .. c .. "'")
end

--- The Lua value of one JSON text; raises "invalid JSON at character N: ..." otherwise.
function json.decode(text)
  if type(text) ~= "string" then error("json.decode needs a string", 0) end
  local value, pos = decode_value(text, skip(text, 1), 0)
  pos = skip(text, pos)
  if pos <= #text then fail(text, pos, "trailing characters") end
  return value
end

return json
