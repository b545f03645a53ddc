-- The part every lease script shares; it is put in front of acquire.lua, renew.lua and release.lua when they load.
--
-- KEYS, all in the hash tag of the user's key, so one cluster slot:
--   [1] the lease: its value is the holder's owner token, its TTL the lease's
--   [2] the key's fencing counter: the last token drawn
--   [3] the wait queue: a sorted set of waiter ids by arrival (server time in us)
--   [4] the waiters: a hash from waiter id to "expiry-ms ttl-ms process"
-- ARGV:
--   [1] owner token   [2] lease TTL in ms   [3] how much longer than its lease the fencing counter is kept, in ms
--   [4] the suffix that makes the lease key into the key's notice channel
--   [5] the publish command: empty for SPUBLISH where the server has it (Redis 7+: a notice stays on the key's
--       shard) and PUBLISH elsewhere, or one of the two by name
--   [6] how long the caller's place in the queue is kept without a word from it, in ms: > 0 takes a place (or keeps
--       it), < 0 only keeps the place the caller has, 0: the caller does not queue
--   [7] the caller's waiter id (the owner token, where the server grants; empty: none)
--   [8] the caller's process id (a release does not notify its own process of a grant: its answer does)
--   [9] 'grant': a freed key goes to the first live waiter, written by the server and told to that waiter only;
--       'notify': the key's waiters are told that it is free and race for it (Redlock);
--       'quiet': nobody is told (Redlock giving back a partial grant)

-- Servers before 5.0 replicate scripts verbatim, which forbids a write after TIME. Only servers before 7.0 are asked
-- (7.0 added REDIS_VERSION_NUM): the call costs every script run about a microsecond.
if not redis.REDIS_VERSION_NUM and redis.replicate_commands then
    redis.replicate_commands()
end

local lease, fence, queue, waiters = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local owner, ttl, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local lifetime, waiter, process, mode = tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9]

-- The server clock in microseconds. Lua numbers are doubles: exact up to 2^53 us (year 2255).
local function now_us()
    local time = redis.call('TIME')
    return tonumber(time[1]) * 1000000 + tonumber(time[2])
end

-- Draws the next fencing token: the larger of the last token + 1 and the server clock in us, so that tokens keep
-- rising after the counter is gone (FLUSHALL, a restart that lost the data, expiry) because the clock moved on.
local function next_token(now, lease_ttl)
    local token = now
    local last = tonumber(redis.call('GET', fence))
    if last ~= nil and last >= token then
        token = last + 1
    end
    redis.call('SET', fence, string.format('%.0f', token), 'PX', lease_ttl + retention)
    return token
end

-- Sends a notice on the key's channel. Worked out here, not up front: most runs send none.
local function notify(message)
    local publish = ARGV[5]
    if publish == '' then
        publish = (redis.REDIS_VERSION_NUM or 0) >= 0x070000 and 'SPUBLISH' or 'PUBLISH'
    end
    redis.call(publish, KEYS[1] .. ARGV[4], message)
end

local function leave_queue(id)
    if id ~= '' and redis.call('ZREM', queue, id) == 1 then
        redis.call('HDEL', waiters, id)
    end
end

-- The first waiter whose place has not expired, as id, ttl, process and the server clock (read here when the caller
-- passed none: a queue that is empty needs no clock); places that expired on the way are dropped.
local function first_live_waiter(now)
    while true do
        local first = redis.call('ZRANGE', queue, 0, 0)[1]
        if first == nil then
            return nil
        end
        now = now or now_us()
        local entry = redis.call('HGET', waiters, first)
        if entry then
            local expiry, entry_ttl, entry_process = string.match(entry, '^(%d+) (%d+) (.*)$')
            if tonumber(expiry) * 1000 > now then
                return first, tonumber(entry_ttl), entry_process, now
            end
        end
        leave_queue(first)
    end
end

-- Hands the free key to a waiter: its place goes, the lease and a new token are written, and its process is told,
-- unless it is `answered_process`, which reads the grant from the script's answer.
-- The notice is the waiter's process id, its waiter id (16 bytes each) and the token in decimal.
local function grant_to(id, entry_ttl, entry_process, now, answered_process)
    leave_queue(id)
    local token = next_token(now, entry_ttl)
    redis.call('SET', lease, id, 'PX', entry_ttl)
    if entry_process ~= answered_process then
        notify(entry_process .. id .. string.format('%.0f', token))
    end
    return token
end

-- Takes the caller's place in the queue (ARGV[6] > 0), or keeps the place it has (ARGV[6] < 0) and returns false
-- when that place is gone: expired, granted, or lost with the server's data. A waiter id is queued once, so a grant
-- notice for it can only be for the place it has now. The queue keys live as long as the longest-lived place, so a
-- queue that everybody left is gone by itself.
local function queue_caller(now)
    local place_lifetime = math.abs(lifetime)
    if lifetime > 0 then
        redis.call('ZADD', queue, 'NX', string.format('%.0f', now), waiter)
    elseif redis.call('ZSCORE', queue, waiter) == false then
        return false
    end
    redis.call('HSET', waiters, waiter, string.format('%.0f %d %s', math.floor(now / 1000) + place_lifetime, ttl, process))
    if redis.call('PTTL', queue) < place_lifetime then
        redis.call('PEXPIRE', queue, place_lifetime)
        redis.call('PEXPIRE', waiters, place_lifetime)
    end
    return true
end

-- After the lease went: the first live waiter gets the key ('grant'), or every waiter is told ('notify').
-- Returns the waiter id and token of a grant, else nil.
local function hand_over(answered_process)
    if mode == 'quiet' then
        return nil
    end
    local first, entry_ttl, entry_process, now = first_live_waiter(nil)
    if first == nil then
        return nil
    end
    if mode == 'grant' then
        return first, grant_to(first, entry_ttl, entry_process, now, answered_process)
    end
    notify('')
    return nil
end
