-- Shared by the wrk scripts in bench/lua/: UUID generation, non-2xx counting and the
-- machine-readable RESULT line that bench/lib/wrk.sh parses.
--
-- Load it from a scenario script with:
--   local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
--   package.path = dir .. "?.lua;" .. package.path
--   local common = require("common")
--   common.install("my-scenario")
--
-- How wrk runs a script (see wrk's SCRIPTING): the file is loaded into one Lua state per
-- thread, plus one more state for setup() and done(). Globals are therefore per state:
-- the counters below live in each thread's state, and done() can only reach them through
-- the thread objects that setup() saw (thread:get). wrk's Lua is LuaJIT (Lua 5.1 API).

local common = {}

-- Directory of this file, so payloads can be found whatever wrk's working directory is.
common.dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"

function common.read_file(path)
   local f = assert(io.open(path, "rb"))
   local text = f:read("*a")
   f:close()
   return text
end

-- A required environment variable: the shell passes secrets (the token) this way rather
-- than on wrk's command line, where `ps` would show them.
function common.env(name, default)
   local value = os.getenv(name)
   if value == nil or value == "" then
      if default ~= nil then return default end
      error(name .. " is not set")
   end
   return value
end

-- Seeds this state's math.random. Each thread has its own state and PRNG, so without a
-- per-thread seed both threads would produce the same UUID sequence (their requests would
-- replay each other's chats instead of creating fresh ones). The thread number and the
-- clock are the seed the brief asks for; a few bytes of /dev/urandom are mixed in so two
-- runs started within the same second do not repeat either.
function common.seed(thread_number)
   local seed = os.time() + (thread_number or 0) * 1000003
   local urandom = io.open("/dev/urandom", "rb")
   if urandom then
      local b = urandom:read(3)
      urandom:close()
      seed = seed + (b:byte(1) + b:byte(2) * 256 + b:byte(3) * 65536) * 7
   end
   math.randomseed(seed)
   -- LuaJIT's first draws after seeding are fine, but discarding a few costs nothing.
   for _ = 1, 8 do math.random() end
end

local random, format = math.random, string.format

-- A random UUID v4 (RFC 9562): version nibble 4, variant bits 10. Built from 16-bit draws
-- because string.format("%x") of numbers above 2^31 is not portable across Lua 5.1 builds.
function common.uuid4()
   return format("%04x%04x-%04x-%04x-%04x-%04x%04x%04x",
      random(0, 0xffff), random(0, 0xffff),
      random(0, 0xffff),
      0x4000 + random(0, 0x0fff),
      0x8000 + random(0, 0x3fff),
      random(0, 0xffff), random(0, 0xffff), random(0, 0xffff))
end

-- Defines wrk's setup/init/response/done globals for a scenario called `scenario`.
-- A scenario that needs its own per-thread start-up passes `on_init(args)`.
function common.install(scenario, on_init)
   -- Thread objects as setup() sees them; only the setup/done state fills this table.
   local threads = {}

   function setup(thread)
      table.insert(threads, thread)
      thread:set("thread_number", #threads)
   end

   -- Per-thread counters (globals of each thread's state, read back by done()).
   non2xx = 0
   statuses = {}
   first_non2xx = nil

   function init(args)
      common.seed(thread_number)
      if on_init then on_init(args) end
   end

   function response(status, headers, body)
      if status < 200 or status > 299 then
         non2xx = non2xx + 1
         local key = tostring(status)
         statuses[key] = (statuses[key] or 0) + 1
         if first_non2xx == nil then
            -- Kept once per thread so a failing run shows why, without flooding the output.
            first_non2xx = key .. " " .. (body or ""):sub(1, 600):gsub("%s+", " ")
         end
      end
   end

   function done(summary, latency, requests)
      local total_non2xx, by_status, first = 0, {}, nil
      for _, thread in ipairs(threads) do
         total_non2xx = total_non2xx + (thread:get("non2xx") or 0)
         for status, count in pairs(thread:get("statuses") or {}) do
            by_status[status] = (by_status[status] or 0) + count
         end
         first = first or thread:get("first_non2xx")
      end

      local keys = {}
      for status in pairs(by_status) do keys[#keys + 1] = status end
      table.sort(keys)
      local parts = {}
      for _, status in ipairs(keys) do parts[#parts + 1] = status .. ":" .. by_status[status] end

      local seconds = summary.duration / 1e6
      local errors = summary.errors
      -- wrk's latency figures are microseconds.
      io.write(format(
         "RESULT scenario=%s phase=%s rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
         "non2xx=%d requests=%d status_errors=%d connect=%d read=%d write=%d timeout=%d statuses=%s\n",
         scenario, common.env("BENCH_PHASE", "measured"),
         summary.requests / seconds,
         latency:percentile(50) / 1000, latency:percentile(90) / 1000,
         latency:percentile(99) / 1000, latency.max / 1000,
         total_non2xx, summary.requests, errors.status,
         errors.connect, errors.read, errors.write, errors.timeout,
         #parts > 0 and table.concat(parts, ",") or "-"))
      if first then
         io.write("FIRST_NON2XX scenario=" .. scenario .. " " .. first .. "\n")
      end
   end
end

-- Pacing at a fixed total rate (bench/scenarios/soak.sh). With BENCH_RATE > 0 (total requests/s over
-- all threads; BENCH_THREADS is wrk's -t, to split it) this defines wrk's delay() hook and
-- returns the rate; otherwise it defines nothing (as fast as possible) and returns nil.
-- wrk calls delay() before each request of a connection and waits that many ms. Each thread
-- keeps a schedule of send slots, one every THREADS * 1000 / RATE ms, and a connection that
-- asks is given the next free slot. The rate is therefore fixed as long as there are more
-- connections than requests in flight (rate × latency); a slot that passed while every
-- connection was busy is skipped, not caught up in a burst. wrk's latency figures start when
-- a request is written, so the waiting is not counted in them.
function common.pace()
   local rate = tonumber(common.env("BENCH_RATE", "0"))
   if rate == nil or rate <= 0 then return nil end
   local threads = tonumber(common.env("BENCH_THREADS", "1"))
   local interval_ms = threads * 1000 / rate

   local ffi = require("ffi")
   ffi.cdef [[
      typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
      int clock_gettime(int clock_id, bench_timespec *tp);
   ]]
   local CLOCK_MONOTONIC = 1
   local ts = ffi.new("bench_timespec")
   local function now_ms()
      ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
      return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
   end

   local last_slot = nil   -- the send time (ms) last handed to a connection (per thread)
   function delay()
      local now = now_ms()
      local slot = last_slot and last_slot + interval_ms or now
      if slot < now then slot = now end
      last_slot = slot
      return math.floor(slot - now + 0.5)
   end
   return rate
end

-- Sets the headers every endpoint benchmarked here needs.
function common.json_request(method, body, token)
   wrk.method = method
   wrk.body = body
   wrk.headers["Content-Type"] = "application/json"
   if token then
      wrk.headers["Authorization"] = "Bearer " .. token
   end
end

return common
