-- wrk: mixed traffic for the soak (tests/bench/soak/soak.sh). Each request
-- picks a random seeded leader ("token householdId" lines) and one of:
--   40 % GET /v1/households/me      25 % GET /v1/me
--   25 % GET /v1/notifications       7 % PATCH /v1/households/{id} (description)
--    3 % POST /v1/notifications/read-all
-- done() prints one CSV line: requests,errors_connect,errors_read,errors_write,
-- errors_timeout,non2xx,s5xx,p50_ms,p90_ms,p99_ms,max_ms
local threads = {}
function setup(thread) table.insert(threads, thread) end

local targets, n = {}, 0
statuses = {}
function init(args)
  for line in io.lines(args[1]) do
    local token, hid = line:match("^(%S+) (%S+)$")
    if token then targets[#targets + 1] = { token, hid } end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  local t = targets[math.random(#targets)]
  local h = { ["Authorization"] = "Bearer " .. t[1] }
  local r = math.random(100)
  if r <= 40 then
    return wrk.format("GET", "/v1/households/me", h)
  elseif r <= 65 then
    return wrk.format("GET", "/v1/me", h)
  elseif r <= 90 then
    return wrk.format("GET", "/v1/notifications?limit=20", h)
  elseif r <= 97 then
    n = n + 1
    h["Content-Type"] = "application/json"
    return wrk.format("PATCH", "/v1/households/" .. t[2], h,
                      '{"description":"soak ' .. n .. '"}')
  else
    return wrk.format("POST", "/v1/notifications/read-all", h)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local non2xx, s5xx = 0, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do
      if k < 200 or k > 299 then non2xx = non2xx + v end
      if k >= 500 then s5xx = s5xx + v end
    end
  end
  local e = summary.errors
  io.write(string.format("CSV %d,%d,%d,%d,%d,%d,%d,%.2f,%.2f,%.2f,%.2f\n", summary.requests,
    e.connect, e.read, e.write, e.timeout, non2xx, s5xx, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
