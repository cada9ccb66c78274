-- One workload of the benchmark, run by wrk: `wrk ... -s workload.lua URL -- WORKLOAD BASE API_KEY SLUG`.
-- WORKLOAD is retrieve, list, create or mixed (create, retrieve, list, update, delete in turn);
-- BASE is the path prefix ("/v1" for the mock, "" for Prism); SLUG a key that exists.
local workload, base, api_key, slug
local created = {}
local step = 0
local create_body = '{"name":"bench key","provider":"openai","key":"sk-bench-000000000000wxyz"}'
local update_body = '{"note":"updated by the benchmark"}'

function init(args)
  workload, base, api_key, slug = args[1], args[2], args[3], args[4]
end

local function call(method, path, body)
  local headers = {["x-portkey-api-key"] = api_key}
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(method, base .. path, headers, body)
end

local function newest_or_seeded()
  return created[#created] or slug
end

function request()
  if workload == "retrieve" then return call("GET", "/virtual-keys/" .. slug) end
  if workload == "list" then return call("GET", "/virtual-keys") end
  if workload == "create" then return call("POST", "/virtual-keys", create_body) end
  step = step + 1
  local phase = step % 5
  if phase == 1 then return call("POST", "/virtual-keys", create_body) end
  if phase == 2 then return call("GET", "/virtual-keys/" .. newest_or_seeded()) end
  if phase == 3 then return call("GET", "/virtual-keys") end
  if phase == 4 then return call("PUT", "/virtual-keys/" .. newest_or_seeded(), update_body) end
  -- Delete the oldest key, keeping a few so no request in flight targets a deleted key.
  if #created > 8 then return call("DELETE", "/virtual-keys/" .. table.remove(created, 1)) end
  return call("GET", "/virtual-keys/" .. slug)
end

function response(status, headers, body)
  if workload == "mixed" and status == 200 then
    local made = body:match('"data":{"slug":"([^"]+)"}')
    if made then created[#created + 1] = made end
  end
end

function done(summary, latency, requests)
  local failed = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "failed": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, failed, latency:percentile(50), latency:percentile(99)))
end
