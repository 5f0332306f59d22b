-- @noindex
-- Writes reaper_scripts/index.xml (the ReaPack repository index) from the headers of
-- reaper_scripts/ddbridge.lua, the package file: @description, @version, @author, @about and
-- @provides ("[main] source > installed name" installs one file under several action names).
-- Every source URL is pinned: the raw file of the repository at a release tag or commit, as
-- ReaTeam's index does, so a published index never changes under its users.
--
-- usage: lua5.4 reaper_scripts/tools/make_index.lua [--repository URL] [--ref TAG|COMMIT] [--check | --import-url]
--   --repository  https://github.com/<owner>/<name> (default: reaper_scripts/release.json)
--   --ref         the release tag (v<@version>) or a 40-digit commit (default: release.json)
--   --check       exit 1 if index.xml differs from what would be written
--   --import-url  print the URL users paste into ReaPack's "Import repositories"

local root = (arg[0]:match("^(.*[/\\])") or "./") .. "../"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

--- The tags of a script's header: {tag = {lines...}} (a tag's value plus its indented lines).
local function headers(text)
  local tags, current = {}, nil
  for line in text:gmatch("([^\n]*)\n?") do
    local tag, value = line:match("^%-%- @(%w+)%s*(.-)%s*$")
    if tag then
      current = { value ~= "" and value or nil }
      tags[tag] = current
    elseif current and line:match("^%-%-  ") then
      current[#current + 1] = line:match("^%-%-%s+(.-)%s*$")
    elseif current and line == "--" then
      current[#current + 1] = ""
    else
      current = nil
      if not line:match("^%-%-") then break end
    end
  end
  return tags
end

local function xml(s)
  return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

local function url(base, path)
  return base .. path:gsub("[^%w%-._~/]", function(c) return string.format("%%%02X", c:byte()) end)
end

local function rtf(lines)
  local out = {}
  for _, line in ipairs(lines) do
    local text = line:gsub("^#+%s*", ""):gsub("[\\{}]", "\\%0")
    out[#out + 1] = text .. "\\par"
  end
  return "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 \\fswiss Helvetica;}}\\f0\\pard\n" .. table.concat(out, "\n") .. "\n}"
end

--- The index.xml text for the package file's headers.
local function index(base)
  local tags = headers(read(root .. "ddbridge.lua"))
  for _, tag in ipairs({ "description", "version", "author", "about", "provides" }) do
    assert(tags[tag], "ddbridge.lua lacks @" .. tag)
  end
  local sources = {}
  for _, entry in ipairs(tags.provides) do
    local main, source, target = entry:match("^(%[main%]%s*)(.-)%s*>%s*(.+)$")
    if not source then main, source = entry:match("^(%[main%]%s*)(.+)$") end
    if not source then source = entry end
    target = target or source
    assert(io.open(root .. source, "rb"), "@provides names a missing file: " .. source):close()
    sources[#sources + 1] = string.format('        <source file="%s"%s>%s</source>',
      xml(target), main and ' main="main"' or "", xml(url(base, source)))
  end
  return table.concat({
    '<?xml version="1.0" encoding="utf-8"?>',
    '<index version="1" name="ddbridge">',
    '  <category name="ddbridge">',
    string.format('    <reapack name="ddbridge.lua" type="script" desc="%s">', xml(tags.description[1])),
    "      <metadata>",
    "        <description><![CDATA[" .. rtf(tags.about) .. "]]></description>",
    "      </metadata>",
    string.format('      <version name="%s" author="%s">', xml(tags.version[1]), xml(tags.author[1])),
    table.concat(sources, "\n"),
    "      </version>",
    "    </reapack>",
    "  </category>",
    "</index>",
    "",
  }, "\n")
end

local function read_release()
  local json = dofile(root .. "ddbridge/json.lua")
  return json.decode(read(root .. "release.json"))
end

local release = read_release()
local repository, ref, mode = release.repository, release.ref, "write"
local i = 1
while arg[i] do
  if arg[i] == "--check" or arg[i] == "--import-url" then
    mode = arg[i]:sub(3)
  elseif (arg[i] == "--repository" or arg[i] == "--ref") and arg[i + 1] then
    if arg[i] == "--ref" then ref = arg[i + 1] else repository = arg[i + 1] end
    i = i + 1
  else
    io.stderr:write("usage: lua5.4 make_index.lua [--repository URL] [--ref TAG|COMMIT] [--check | --import-url]\n")
    os.exit(2)
  end
  i = i + 1
end

local function fail(text)
  io.stderr:write(text, "\n")
  os.exit(2)
end

local owner, name = tostring(repository):match("^https://github%.com/([%w%-_.]+)/([%w%-_.]+)$")
if not owner then fail("the repository must be https://github.com/<owner>/<name>, not " .. tostring(repository)) end
local version = headers(read(root .. "ddbridge.lua")).version[1]
if ref ~= "v" .. version and not tostring(ref):match("^" .. string.rep("%x", 40) .. "$") then
  fail(string.format("ref must be the release tag v%s (@version of ddbridge.lua) or a 40-digit commit, not '%s':"
    .. " a branch would change under ReaPack's users", version, tostring(ref)))
end
local base = string.format("https://raw.githubusercontent.com/%s/%s/%s/reaper_scripts/", owner, name, ref)
if mode == "import-url" then
  print(base .. "index.xml")
  os.exit(0)
end
local check = mode == "check"

local text = index(base)
local path = root .. "index.xml"
if check then
  local f = io.open(path, "rb")
  local current = f and f:read("a")
  if f then f:close() end
  if current ~= text then
    io.stderr:write("index.xml is out of date: run lua5.4 reaper_scripts/tools/make_index.lua\n")
    os.exit(1)
  end
else
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end
