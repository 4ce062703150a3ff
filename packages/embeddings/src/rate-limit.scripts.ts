/**
 * Lua of {@link RedisRateLimiter}. Every script reads the clock of Redis (`TIME`), so processes on hosts
 * whose clocks differ still share one window.
 *
 * Keys (one hash slot): 1 request log, 2 its running sum, 3 token log, 4 its running sum, 5 pause deadline.
 * A log is a sorted set of grants, member `<id>:<amount>`, score = time granted (ms); a grant counts while
 * it is younger than the window, exactly as the API's one-minute sliding window does.
 */
const PRELUDE = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function amountOf(member)
  return tonumber(string.match(member, ':(%d+)$'))
end
`;

/**
 * ARGV: window ms, grant id, request limit (0 = none), token limit (0 = none), tokens.
 * Returns `{1, 0}` when granted, `{0, wait ms}` when not (paused, or not enough of the window is free).
 */
export const ACQUIRE_SCRIPT = `${PRELUDE}
local window = tonumber(ARGV[1])
local id = ARGV[2]
local limits = { tonumber(ARGV[3]), tonumber(ARGV[4]) }
local amounts = { 1, tonumber(ARGV[5]) }
local logs = { KEYS[1], KEYS[3] }
local sums = { KEYS[2], KEYS[4] }
local pausedUntil = tonumber(redis.call('GET', KEYS[5]) or '0')
if pausedUntil > now then return { 0, pausedUntil - now } end
local cutoff = now - window
local wait = 0
for i = 1, 2 do
  local log, sum = logs[i], sums[i]
  local expired = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff)
  if #expired > 0 then
    local freed = 0
    for _, member in ipairs(expired) do freed = freed + amountOf(member) end
    redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
    redis.call('DECRBY', sum, freed)
  end
  local used = 0
  if redis.call('ZCARD', log) == 0 then redis.call('DEL', sum) else used = tonumber(redis.call('GET', sum) or '0') end
  local limit, amount = limits[i], amounts[i]
  if limit > 0 and used + amount > limit then
    -- The oldest grants leave first: wait until enough of them have left.
    local entries = redis.call('ZRANGE', log, 0, -1, 'WITHSCORES')
    local freed, ready = 0, window
    for j = 1, #entries, 2 do
      freed = freed + amountOf(entries[j])
      if used - freed + amount <= limit then
        ready = tonumber(entries[j + 1]) + window - now
        break
      end
    end
    if ready > wait then wait = ready end
  end
end
if wait > 0 then return { 0, wait } end
-- Only limited amounts are logged: without limits the limiter only carries pauses.
for i = 1, 2 do
  if limits[i] > 0 then
    redis.call('ZADD', logs[i], now, id .. ':' .. amounts[i])
    redis.call('INCRBY', sums[i], amounts[i])
    redis.call('PEXPIRE', logs[i], window * 2)
    redis.call('PEXPIRE', sums[i], window * 2)
  end
end
return { 1, 0 }
`;

/** ARGV: grant id, tokens. Removes a grant from both logs if it is still there. */
export const REFUND_SCRIPT = `
local members = { ARGV[1] .. ':1', ARGV[1] .. ':' .. ARGV[2] }
local logs = { KEYS[1], KEYS[3] }
local sums = { KEYS[2], KEYS[4] }
for i = 1, 2 do
  if redis.call('ZREM', logs[i], members[i]) == 1 then
    redis.call('DECRBY', sums[i], tonumber(string.match(members[i], ':(%d+)$')))
  end
end
return 1
`;

/** ARGV: pause ms. Moves the pause deadline to now + ms unless it is already later; returns the deadline. */
export const PAUSE_SCRIPT = `${PRELUDE}
local ms = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[5]) or '0')
local deadline = now + ms
if current >= deadline then return current end
redis.call('SET', KEYS[5], deadline, 'PX', ms)
return deadline
`;
