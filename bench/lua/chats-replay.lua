-- PUT /v2/chats/{chatId} on one chat id that already exists: every request is an idempotent
-- replay that returns the stored chat (before Orleans: the insert finds a conflict, then the
-- read-back; on Orleans: the chat grain's activation answers from memory).
-- The chat id is the URL's path; bench/scenarios/chats.sh creates the chat with curl first.
-- Body: the spec's full "Request Body" example (bench/payloads/chats-put.json).
-- Env: BENCH_TOKEN (a Bearer token whose role may create chats).
-- Run: BENCH_TOKEN=... wrk -t2 -c32 -d15s --latency -s bench/lua/chats-replay.lua http://127.0.0.1:PORT/v2/chats/<uuid>

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local common = require("common")

common.install("replay")
common.json_request("PUT", common.read_file(dir .. "../payloads/chats-put.json"), common.env("BENCH_TOKEN"))

if not wrk.path:match("^/v2/chats/[0-9a-fA-F-]+$") then
   -- wrk only prints a script's load error and runs anyway, so stop it here.
   io.stderr:write("chats-replay.lua: the URL must end in /v2/chats/<uuid>, got " .. wrk.path .. "\n")
   os.exit(2)
end
-- No request() function: wrk then builds the request once per thread and resends it,
-- which is the cheapest load generator for a fixed request.
