-- One workload of the benchmark, run by wrk: `wrk ... -s workload.lua URL -- WORKLOAD BASE API_KEY SLUG`.
-- WORKLOAD is retrieve, list, create or mixed (create, retrieve, list, update, delete in turn) on
-- virtual keys, or configs (the same lifecycle on configs, a resource the engine serves);
-- BASE is the path prefix ("/v1" for the mock, "" for Prism); SLUG a key (a config) that exists.
local workload, base, api_key, slug
local created = {}
made = 0  -- a global: done() reads it from each thread
local step = 0
local create_body = '{"name":"bench key","provider":"openai","key":"sk-bench-000000000000wxyz"}'
local update_body = '{"note":"updated by the benchmark"}'
local config_body = '{"name":"bench config","config":{"retry":{"attempts":3}}}'
local config_update = '{"name":"bench config, updated"}'

local threads = {}

function setup(thread)  -- in the main script: each thread's own counters are read in done()
  threads[#threads + 1] = thread
end

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

-- The lifecycle on configs. It keeps 32 configs before deleting the oldest (mixed keeps 8), so that
-- no request held up on one connection targets a config the others have deleted meanwhile.
local function config_lifecycle()
  step = step + 1
  local phase = step % 5
  if phase == 1 then return call("POST", "/configs", config_body) end
  if phase == 2 then return call("GET", "/configs/" .. newest_or_seeded()) end
  if phase == 3 then return call("GET", "/configs") end
  if phase == 4 then return call("PUT", "/configs/" .. newest_or_seeded(), config_update) end
  if #created > 32 then return call("DELETE", "/configs/" .. table.remove(created, 1)) end
  return call("GET", "/configs/" .. slug)
end

function request()
  if workload == "retrieve" then return call("GET", "/virtual-keys/" .. slug) end
  if workload == "list" then return call("GET", "/virtual-keys") end
  if workload == "create" then return call("POST", "/virtual-keys", create_body) end
  if workload == "configs" then return config_lifecycle() end
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

-- What a create answers, and nothing else does: a virtual key's slug, or a config's whole answer.
local create_answers = {
  mixed = '"data":{"slug":"([^"]+)"}',
  configs = '^{"id":"[^"]+","slug":"([^"]+)","version_id":"[^"]+"}%s*$',
}

function response(status, headers, body)
  local pattern = create_answers[workload]
  if pattern and status == 200 then
    local new = body:match(pattern)
    if new then
      created[#created + 1] = new
      made = made + 1
    end
  end
end

function done(summary, latency, requests)
  local all_made = 0
  for _, thread in ipairs(threads) do all_made = all_made + (thread:get("made") or 0) end
  local failed = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "failed": %d, "p50_us": %d, "p99_us": %d, "created": %d}\n',
    summary.requests, summary.duration, failed, latency:percentile(50), latency:percentile(99), all_made))
end
