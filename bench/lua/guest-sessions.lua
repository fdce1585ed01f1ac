-- POST /api/v1/chat/guest/session (spec 000) with a fresh random session_id on every
-- request: each request opens a new guest session (answered 201). No auth.
-- Body: {"session_id": "<uuid>", "guest_name": "Guest", "guest_email": "guest@example.com"}
-- Env: BENCH_SCENARIO (the scenario name in the RESULT line; bench/scenarios/guest-sessions.sh runs
-- this one script under several node configurations).
-- Run: wrk -t2 -c32 -d15s --latency -s bench/lua/guest-sessions.lua http://127.0.0.1:PORT/api/v1/chat/guest/session

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local common = require("common")

common.install(common.env("BENCH_SCENARIO", "guest-sessions"))
common.json_request("POST", nil, nil)

if wrk.path ~= "/api/v1/chat/guest/session" then
   -- wrk only prints a script's load error and runs anyway, so stop it here.
   io.stderr:write("guest-sessions.lua: the URL must end in /api/v1/chat/guest/session, got " .. wrk.path .. "\n")
   os.exit(2)
end

local format = string.format
local body = '{"session_id": "%s", "guest_name": "Guest", "guest_email": "guest@example.com"}'

-- Built per request because the body changes; wrk.format fills in the method and headers
-- set above, the path from the URL, and computes Content-Length from the body.
function request()
   return wrk.format(nil, nil, nil, format(body, common.uuid4()))
end
