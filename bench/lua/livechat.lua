-- POST /livechat/session (spec 001): every request starts a new live-chat session, answered
-- 201. The server makes the ids, so the request never changes: each one inserts a guest user,
-- a session and its outbox event (one statement) and signs an RS256 session token. No auth.
-- Body: the spec's scenario 1, {"name": "Budi", "city": "Solo", "country": "Indonesia"}
-- Env: BENCH_SCENARIO (the scenario name in the RESULT line; default "sessions").
-- Run: wrk -t2 -c32 -d15s --latency -s bench/lua/livechat.lua http://127.0.0.1:PORT/livechat/session

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local common = require("common")

common.install(common.env("BENCH_SCENARIO", "sessions"))
common.json_request("POST", '{"name": "Budi", "city": "Solo", "country": "Indonesia"}', nil)

if wrk.path ~= "/livechat/session" then
   -- wrk only prints a script's load error and runs anyway, so stop it here.
   io.stderr:write("livechat.lua: the URL must end in /livechat/session, got " .. wrk.path .. "\n")
   os.exit(2)
end
-- No request() function: wrk then builds the request once per thread and resends it,
-- which is the cheapest load generator for a fixed request.
