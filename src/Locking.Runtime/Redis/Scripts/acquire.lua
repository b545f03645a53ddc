-- Acquires a lease in one step, or queues the caller (see lease.lua for KEYS and ARGV).
-- Returns the new fencing token (> 0) when granted now; {token} when the server granted this owner the key while it
-- waited (a release or an expiry hand-off); {} when the caller asked to keep a place it no longer has; when the key
-- is held: 0 if the holder's key never expires, else -(its remaining TTL in ms) - 1.

local holder = redis.call('GET', lease)
if holder == owner then
    return { tonumber(redis.call('GET', fence)) }
end

local now = now_us()
if not holder then
    local first, entry_ttl, entry_process
    if mode == 'grant' then
        first, entry_ttl, entry_process = first_live_waiter(now)
    end
    if first == nil or first == waiter then
        -- Nobody waits, or the caller is first in line: the key is the caller's.
        if first == waiter or mode ~= 'grant' then
            leave_queue(waiter)
        end
        local token = next_token(now, ttl)
        redis.call('SET', lease, owner, 'PX', ttl)
        return token
    end
    -- Others came first: the key goes to the first of them, and the caller queues behind.
    grant_to(first, entry_ttl, entry_process, now, nil)
end

if lifetime ~= 0 and not queue_caller(now) then
    return {}
end

local remaining = redis.call('PTTL', lease)
if remaining == -1 then
    return 0
end
return -remaining - 1
