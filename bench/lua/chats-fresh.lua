-- PUT /v2/chats/{chatId} with a fresh random chat id on every request: each request
-- creates a chat (before Orleans: one INSERT of the chat and its outbox event; on Orleans: a
-- new chat grain's activation, its record's insert and its stream event).
-- Body: the spec's full "Request Body" example (bench/payloads/chats-put.json).
-- Env: BENCH_TOKEN (a Bearer token whose role may create chats); optionally BENCH_RATE and
-- BENCH_THREADS to pace the requests at a fixed total rate (common.pace; bench/run.sh soak).
-- Run: BENCH_TOKEN=... wrk -t2 -c32 -d15s --latency -s bench/lua/chats-fresh.lua http://127.0.0.1:PORT

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local common = require("common")

common.install(common.env("BENCH_SCENARIO", "fresh"))
common.pace()
common.json_request("PUT", common.read_file(dir .. "../payloads/chats-put.json"), common.env("BENCH_TOKEN"))

-- Built per request because the path changes; wrk.format merges the method, headers and
-- body set above.
function request()
   return wrk.format(nil, "/v2/chats/" .. common.uuid4())
end
