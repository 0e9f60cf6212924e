-- wrk script for bench/gate-bench.mjs: keep-alive GETs whose edge facts rotate through a
-- country mix via the dev-only MF-CF-Blob header (miniflare turns it into request.cf).
--   wrk ... -s bench/mixed.lua URL -- mixed   (70% pass, 10% warn, 15% block, 5% unknown)
--   wrk ... -s bench/mixed.lua URL -- pass    (supported countries only)
-- done() prints one line `WRK_JSON {...}` that the runner parses.

local profiles = {
  mixed = {
    '{"country":"JP"}', '{"country":"US","regionCode":"CA"}', '{"country":"DE"}', '{"country":"GB"}',
    '{"country":"FR"}', '{"country":"BR"}', '{"country":"IN"}', '{"country":"KR"}',
    '{"country":"AU"}', '{"country":"CA"}', '{"country":"UA","regionCode":"30"}', '{"country":"MX"}',
    '{"country":"SG"}', '{"country":"NG"}',
    '{"country":"VE"}', '{"country":"VE"}',
    '{"country":"CN"}', '{"country":"RU"}', '{"country":"UA","regionCode":"43"}',
    '{"country":"XX"}',
  },
  pass = {
    '{"country":"JP"}', '{"country":"US","regionCode":"CA"}', '{"country":"DE"}', '{"country":"GB"}',
    '{"country":"FR"}', '{"country":"BR"}', '{"country":"IN"}', '{"country":"KR"}',
  },
}

local blobs
local n = 0

-- Every blob also says the client accepts no compression: with a blob but no
-- `clientAcceptEncoding`, wrangler dev asks the worker for `br, gzip` and miniflare then
-- brotli-compresses every JSON response inside the worker's workerd process (Cloudflare
-- compresses at its front line, outside the Worker's CPU time), which cost both workers
-- CPU in proportion to the response's length.
function init(args)
  local chosen = profiles[args[1] or "mixed"] or profiles.mixed
  blobs = {}
  for i, blob in ipairs(chosen) do
    blobs[i] = blob:sub(1, -2) .. ',"clientAcceptEncoding":"identity"}'
  end
end

function request()
  n = n + 1
  return wrk.format("GET", "/v1/chat/completions?n=" .. (n % 100), {
    ["MF-CF-Blob"] = blobs[(n % #blobs) + 1],
    ["Authorization"] = "Bearer sk-bench-" .. (n % 50),
  })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
