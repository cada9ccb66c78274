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

-- The lifecycles: create, retrieve the newest, list, update the newest, then delete the oldest once
-- more than `keep` are held (else retrieve the seeded one), so that no request held up on one
-- connection targets a record the others have deleted meanwhile. `answer` matches what a create
-- answers and nothing else does, capturing its slug.
local lifecycles = {
  mixed = {path = "/virtual-keys", create = create_body, update = update_body, keep = 8,
           answer = '"data":{"slug":"([^"]+)"}'},
  configs = {path = "/configs", create = config_body, update = config_update, keep = 32,
             answer = '^{"id":"[^"]+","slug":"([^"]+)","version_id":"[^"]+"}%s*$'},
}

local function lifecycle(on)
  step = step + 1
  local phase = step % 5
  if phase == 1 then return call("POST", on.path, on.create) end
  if phase == 2 then return call("GET", on.path .. "/" .. newest_or_seeded()) end
  if phase == 3 then return call("GET", on.path) end
  if phase == 4 then return call("PUT", on.path .. "/" .. newest_or_seeded(), on.update) end
  if #created > on.keep then return call("DELETE", on.path .. "/" .. table.remove(created, 1)) end
  return call("GET", on.path .. "/" .. slug)
end

function request()
  if workload == "retrieve" then return call("GET", "/virtual-keys/" .. slug) end
  if workload == "list" then return call("GET", "/virtual-keys") end
  if workload == "create" then return call("POST", "/virtual-keys", create_body) end
  return lifecycle(lifecycles[workload])
end

function response(status, headers, body)
  local on = lifecycles[workload]
  if on and status == 200 then
    local new = body:match(on.answer)
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
