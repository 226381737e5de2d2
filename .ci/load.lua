-- wrk script for .ci/load: GET requests rotating over the paths listed in a file
-- (one a line, given after "--"), with the session cookie set by wrk -H. Counts every
-- answer that is not a 200 (a 302 to the login page would otherwise pass as a
-- success), and prints the figures as one JSON line for .ci/load.py to parse.

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  -- Each thread starts at another place in the list, so the mix holds from the start.
  counter = thread_number * 7
  non200 = 0
  last_bad_status = 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    last_bad_status = status
  end
end

function done(summary, latency, requests)
  local bad, bad_status = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
    if thread:get("last_bad_status") ~= 0 then
      bad_status = thread:get("last_bad_status")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'LOAD-RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "timeout": %d, "status": %d, "non200": %d, "bad_status": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.timeout, errors.status, bad, bad_status, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean
  ))
end
