-- wrk: each line of a targets file is sent once (partitioned over wrk's
-- threads); the request built from a line depends on MODE:
--   join    "token code"        POST /v1/households/join {"inviteCode": code}
--   approve "token requestId"   POST /v1/join-requests/{id}/approve (no body)
--   visit   "token householdId" GET  /v1/households/{id}
-- Usage: wrk -t2 -c16 -d20s --latency -s once.lua URL -- MODE FILE THREADS
-- After the last line a thread repeats its lines (answers then differ: the
-- status counts printed at the end show it).
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local lines, i, mode = {}, 0, nil
statuses = {}
function init(args)
  mode = args[1]
  local nthreads = tonumber(args[3])
  local n = 0
  for line in io.lines(args[2]) do
    if n % nthreads == tid then
      local a, b = line:match("^(%S+) (%S+)$")
      if a then lines[#lines + 1] = { a, b } end
    end
    n = n + 1
  end
end

function request()
  i = i % #lines + 1
  local t = lines[i]
  local h = { ["Authorization"] = "Bearer " .. t[1] }
  if mode == "join" then
    h["Content-Type"] = "application/json"
    return wrk.format("POST", "/v1/households/join", h, '{"inviteCode":"' .. t[2] .. '"}')
  elseif mode == "approve" then
    return wrk.format("POST", "/v1/join-requests/" .. t[2] .. "/approve", h)
  else
    return wrk.format("GET", "/v1/households/" .. t[2], h)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local keys = {}
  for k in pairs(total) do keys[#keys + 1] = k end
  table.sort(keys)
  io.write("statuses:")
  for _, k in ipairs(keys) do io.write(string.format(" %d=%d", k, total[k])) end
  io.write("\n")
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("latency p%s: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
