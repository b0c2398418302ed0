-- Small real programs: a JSON-ish serializer, the sieve, n-queens, string
-- building, a word frequency count, a tiny bignum factorial.
local function serialize(value, indent)
  indent = indent or ""
  if type(value) == "table" then
    local keys = {}
    for key in pairs(value) do keys[#keys + 1] = key end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, key in ipairs(keys) do parts[#parts + 1] = indent .. "  " .. tostring(key) .. ": " .. serialize(value[key], indent .. "  ") end
    return "{\n" .. table.concat(parts, ",\n") .. "\n" .. indent .. "}"
  elseif type(value) == "string" then
    return string.format("%q", value)
  end
  return tostring(value)
end
print(serialize({name = "minilibc", version = 1.5, tags = {"c", "rust"}, nested = {deep = {deeper = true}}}))

local function sieve(limit)
  local composite, primes = {}, {}
  for i = 2, limit do
    if not composite[i] then
      primes[#primes + 1] = i
      for j = i * i, limit, i do composite[j] = true end
    end
  end
  return primes
end
local primes = sieve(200000)
print(#primes, primes[#primes], primes[1000])

local function queens(n)
  local count, columns, diagonal1, diagonal2 = 0, {}, {}, {}
  local function place(row)
    if row > n then count = count + 1; return end
    for column = 1, n do
      if not columns[column] and not diagonal1[row + column] and not diagonal2[row - column + n] then
        columns[column], diagonal1[row + column], diagonal2[row - column + n] = true, true, true
        place(row + 1)
        columns[column], diagonal1[row + column], diagonal2[row - column + n] = nil, nil, nil
      end
    end
  end
  place(1)
  return count
end
print(queens(8), queens(9))

local text = string.rep("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ", 2000)
local frequency = {}
for word in text:gmatch("%a+") do frequency[word] = (frequency[word] or 0) + 1 end
local sorted = {}
for word, n in pairs(frequency) do sorted[#sorted + 1] = word .. "=" .. n end
table.sort(sorted)
print(table.concat(sorted, " "))

local function factorial_digits(n)
  local digits = {1}
  for factor = 2, n do
    local carry = 0
    for i = 1, #digits do
      local value = digits[i] * factor + carry
      digits[i] = value % 10
      carry = value // 10
    end
    while carry > 0 do digits[#digits + 1] = carry % 10; carry = carry // 10 end
  end
  local out = {}
  for i = #digits, 1, -1 do out[#out + 1] = digits[i] end
  return table.concat(out)
end
local f = factorial_digits(300)
print(#f, f:sub(1, 30))

local buffer = {}
for i = 1, 10000 do buffer[#buffer + 1] = string.format("%05d:%8.3f;", i, i / 7) end
local joined = table.concat(buffer)
print(#joined, joined:sub(1, 40), joined:sub(-30))
local floats = {}
for i = 1, 2000 do floats[#floats + 1] = tostring(i / 13) .. "|" .. tostring(i * 1e17) end
print(#table.concat(floats), floats[1999])
