-- wrk: GET /v1/households/{id} once per seeded household, round robin over targets.txt
-- ("household_id token" per line), so that every household actor becomes resident.
local targets = {}
local i = 0
function init(args)
  for line in io.lines(args[1] or "targets.txt") do
    local hid, token = line:match("^(%S+) (%S+)$")
    if hid then targets[#targets + 1] = { hid, token } end
  end
  i = math.random(#targets)
end
function request()
  i = i % #targets + 1
  local t = targets[i]
  return wrk.format("GET", "/v1/households/" .. t[1], { ["Authorization"] = "Bearer " .. t[2] })
end
