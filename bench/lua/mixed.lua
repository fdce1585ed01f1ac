-- The three endpoints in rotation, optionally at a fixed total rate (bench/scenarios/soak.sh):
--   1. PUT  /v2/chats/<fresh uuid>          the spec's full body (bench/payloads/chats-put.json), Bearer token
--   2. POST /api/v1/chat/guest/session      {"session_id": "<fresh uuid>", "guest_name": ..., "guest_email": ...}
--   3. POST /livechat/session               {"name": "Budi", "city": "Solo", "country": "Indonesia"}
-- Every request creates something (a chat, a guest session, a live-chat session); answers are
-- 200 (chats) and 201 (the two session endpoints), so the MIX line printed at the end shows
-- the split. Each thread starts its rotation at a different place.
--
-- Env: BENCH_TOKEN (a Bearer token whose role may create chats), BENCH_RATE (total requests/s
-- over all threads; unset or 0 = as fast as possible), BENCH_THREADS (wrk's -t, to split the
-- rate), BENCH_SCENARIO (name in the RESULT line, default "mixed").
-- Run: BENCH_TOKEN=... BENCH_RATE=300 BENCH_THREADS=1 wrk -t1 -c8 -d600s --latency -s bench/lua/mixed.lua http://127.0.0.1:PORT
--
-- Pacing: common.pace() (see common.lua): send slots handed out by wrk's delay() hook.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local common = require("common")

local token = common.env("BENCH_TOKEN")
local rate = common.pace()

local format = string.format
local chat_body = common.read_file(dir .. "../payloads/chats-put.json")
local guest_body = '{"session_id": "%s", "guest_name": "Guest", "guest_email": "guest@example.com"}'
local livechat_body = '{"name": "Budi", "city": "Solo", "country": "Indonesia"}'

-- Per-thread state (each thread loads this file into its own Lua state).
local turn = 0
ok200, ok201 = 0, 0

common.install(common.env("BENCH_SCENARIO", "mixed"), function()
   turn = (thread_number or 1) - 1
end)

-- Wrap common's setup/response/done to count the 2xx split as well.
local base_setup, base_response, base_done = setup, response, done
local all_threads = {}

function setup(thread)
   table.insert(all_threads, thread)
   base_setup(thread)
end

function response(status, headers, body)
   if status == 200 then ok200 = ok200 + 1 elseif status == 201 then ok201 = ok201 + 1 end
   base_response(status, headers, body)
end

function done(summary, latency, requests)
   base_done(summary, latency, requests)
   local n200, n201 = 0, 0
   for _, thread in ipairs(all_threads) do
      n200 = n200 + (thread:get("ok200") or 0)
      n201 = n201 + (thread:get("ok201") or 0)
   end
   io.write(format("MIX status200_chats=%d status201_sessions=%d target_rate=%s\n", n200, n201,
      rate and tostring(rate) or "max"))
end

function request()
   turn = turn % 3 + 1
   if turn == 1 then
      return wrk.format("PUT", "/v2/chats/" .. common.uuid4(), {
         ["Content-Type"] = "application/json",
         ["Authorization"] = "Bearer " .. token,
      }, chat_body)
   elseif turn == 2 then
      return wrk.format("POST", "/api/v1/chat/guest/session", {
         ["Content-Type"] = "application/json",
      }, format(guest_body, common.uuid4()))
   else
      return wrk.format("POST", "/livechat/session", {
         ["Content-Type"] = "application/json",
      }, livechat_body)
   end
end
