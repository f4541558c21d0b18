-- wrk script for bench/prompts_vs_peer.py: GET /v1/prompts spread over the seeded
-- accounts and users, and a one-line JSON summary at the end.
--   wrk ... -s bench/prompts.lua <url> -- <accounts> <users> <account prefix> <user prefix>
-- Account i is asked for with user (i / accounts) % users, so a long run walks every
-- account with every user instead of pairing each account with one user.

local accounts, users = 10000, 3
local account_prefix, user_prefix = "acct-", "user-"
local counter = 0
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  accounts = tonumber(args[1]) or accounts
  users = tonumber(args[2]) or users
  account_prefix = args[3] or account_prefix
  user_prefix = args[4] or user_prefix
  -- Threads start at different places so they do not ask for the same accounts in step.
  counter = (thread_index or 0) * 7919
end

function request()
  counter = counter + 1
  local account = counter % accounts
  local user = math.floor(counter / accounts) % users
  return wrk.format("GET", "/v1/prompts?account_id=" .. account_prefix .. account
    .. "&user_id=" .. user_prefix .. user)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, '
    .. '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"mean": %.1f, "p50": %d, '
    .. '"p90": %d, "p99": %d, "p999": %d, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
