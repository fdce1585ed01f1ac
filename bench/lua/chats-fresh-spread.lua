-- PUT /v2/chats/{chatId} with a fresh random chat id on every request, each chat naming two
-- different commercials drawn at random from a fixed set of BENCH_COMMERCIALS (1,000): the
-- creation's offers spread over many commercials instead of always the same two
-- (bench/scenarios/vs-peers.sh, `fresh-1000`; issue 18's second row).
-- Body: bench/payloads/chats-put.json with its two availableCommercialIds replaced by the two
-- drawn. Commercial i (1..BENCH_COMMERCIALS) is 550e8400-e29b-4b5b-9cb4-2000000xxxxx, i in the
-- last digits: deterministic, so every run (and every server measured) names the same set.
-- Env: BENCH_TOKEN (a Bearer token whose role may name any commercial: admin), BENCH_COMMERCIALS
-- (default 1000), BENCH_SCENARIO (the name in the RESULT line, default "fresh-1000").
-- Run: BENCH_TOKEN=... wrk -t2 -c32 -d15s --latency -s bench/lua/chats-fresh-spread.lua http://127.0.0.1:PORT

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local common = require("common")

common.install(common.env("BENCH_SCENARIO", "fresh-1000"))
common.json_request("PUT", nil, common.env("BENCH_TOKEN"))

local commercials = tonumber(common.env("BENCH_COMMERCIALS", "1000"))
if commercials == nil or commercials < 2 or commercials > 99999 then
   io.stderr:write("chats-fresh-spread.lua: BENCH_COMMERCIALS must be 2..99999\n")
   os.exit(2)
end

-- The payload cut around its two commercial ids, so a body is five strings joined: no pattern
-- matching per request, and nothing in the rest of the payload can be mistaken for an id.
local payload = common.read_file(dir .. "../payloads/chats-put.json")
local first_id, second_id = "550e8400-e29b-4b5b-9cb4-123456789001", "550e8400-e29b-4b5b-9cb4-123456789002"
local a = payload:find(first_id, 1, true)
local b = payload:find(second_id, 1, true)
if a == nil or b == nil or b < a then
   io.stderr:write("chats-fresh-spread.lua: bench/payloads/chats-put.json no longer names the two commercials it expects\n")
   os.exit(2)
end
local head = payload:sub(1, a - 1)
local middle = payload:sub(a + #first_id, b - 1)
local tail = payload:sub(b + #second_id)

local format, random = string.format, math.random
local function commercial(i)
   return format("550e8400-e29b-4b5b-9cb4-2%011d", i)
end

-- Built per request because the path and the body change; wrk.format merges the method and
-- headers set above.
function request()
   local i = random(1, commercials)
   local j = random(1, commercials - 1)
   if j >= i then j = j + 1 end   -- two different commercials, each pair equally likely
   return wrk.format(nil, "/v2/chats/" .. common.uuid4(), nil, head .. commercial(i) .. middle .. commercial(j) .. tail)
end
