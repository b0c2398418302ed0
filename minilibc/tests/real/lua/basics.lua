-- Core language: numbers, strings, tables, closures, metatables, errors.
print(1, 1.5, -0.0, 1e100, 2^63, math.maxinteger, math.mininteger, 7 // 2, 7.0 // 2, 7 % -3, 1/0, -1/0)
print(0.1 + 0.2, 100 / 3, 1e15 + 0.5, 123456789012345678)
print(tostring(3.0), tostring(-1e-300), 2^-1074, 1.7976931348623157e308)
print(tonumber("0x1p4"), tonumber("  12  "), tonumber("1e2"), tonumber("0x10"), tonumber("z", 36), tonumber("1e"), tonumber(".5"), tonumber("5."))
print(string.format("%d|%5.2f|%-8s|%x|%X|%o|%e|%g|%g|%a", 42, math.pi, "ab", 255, 255, 8, 12345.678, 1e20, 0.1, 1.0))
print(string.format("%q", "line\nwith \"quotes\"\0and zero"), string.format("%q", 1/3), string.format("%10.4s|", "abcdefgh"))
print(string.format("%5.1f %+d %05d %.3g %.0f %.20f", -2.25, 7, -42, 2/3, 2.5, 0.1))
local t = {}
for i = 1, 100 do t[i] = (i * 7919) % 101 end
table.sort(t)
print(t[1], t[50], t[100], #t, table.concat(t, ",", 1, 10))
table.sort(t, function(a, b) return a > b end)
print(t[1], t[100])
local words = {}
for word in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do words[#words + 1] = word:upper() end
print(table.concat(words, " "), #words)
print(("hello world"):gsub("o", "0"), ("abc"):rep(3, "-"), ("Hello"):byte(1, -1))
print(string.find("a+b=c", "+", 1, true), string.find("key = value", "(%w+)%s*=%s*(%w+)"), string.match("2024-01-15", "(%d+)-(%d+)-(%d+)"))
print(("%d items"):format(3), ("x"):rep(0), #("x"):rep(100000), ("CamelCaseString"):gsub("%u", function(c) return "_" .. c:lower() end))
local function counter()
  local count = 0
  return function() count = count + 1; return count end
end
local c1, c2 = counter(), counter()
c1(); c1()
print(c1(), c2())
local vector = {}
vector.__index = vector
vector.__add = function(a, b) return setmetatable({x = a.x + b.x, y = a.y + b.y}, vector) end
vector.__tostring = function(v) return "(" .. v.x .. "," .. v.y .. ")" end
vector.__eq = function(a, b) return a.x == b.x and a.y == b.y end
local v = setmetatable({x = 1, y = 2}, vector) + setmetatable({x = 3, y = 4}, vector)
print(tostring(v), v == setmetatable({x = 4, y = 6}, vector))
print(pcall(error, "boom"), pcall(error, {code = 1}), select("#", pcall(error)))
local ok, message = pcall(function() local x = nil; return x.field end)
print(ok, message)
print(xpcall(function() error("deep", 0) end, function(m) return "handled: " .. m end))
local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1); local c = coroutine.yield(b * 2); return c .. "!" end)
print(co(1), co(10), co("done"))
print(select(2, "a", "b", "c"), select(-1, "a", "b", "c"), type(nil), type(print), math.type(1), math.type(1.0), math.type("1"))
print(string.pack and #string.pack("i4d", 1, 2.0), utf8.char(72, 228, 8364, 128512), utf8.len("häll€"), #utf8.char(128512))
for _, c in utf8.codes("aé") do io.write(c, " ") end print()
goto skip
print("not printed")
::skip::
print(load("return 2 + 3")(), load("syntax error here"))
local big = {}
for i = 1, 200000 do big[i] = tostring(i) end
print(#big, big[123456], collectgarbage("count") > 0)
big = nil
collectgarbage()
print(math.floor(3.7), math.ceil(-3.7), math.abs(-4), math.max(1, 5, 3), math.min(2, -1), math.fmod(7, 3), math.fmod(-7, 3), math.huge, -math.huge)
print(math.sqrt(2), math.sin(1), math.cos(1), math.tan(1), math.exp(1), math.log(10), math.log(8, 2), math.log(100, 10))
print(math.tointeger(3.0), math.tointeger(3.5), 3 | 5, 3 & 5, 3 ~ 5, ~0, 1 << 62, 256 >> 4, math.ult(1, -1))
print(string.format("%.14g", 2^53), 2^53 == 2^53 + 1, math.floor(-0.0), 3 % math.huge, -3 % math.huge)
