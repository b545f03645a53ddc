-- Ends a lease if the caller still owns it and hands the key over (see lease.lua for KEYS and ARGV); a caller that
-- does not hold the key leaves the queue instead (a waiter giving up: never granted after this).
-- Returns 0 when the caller did not hold the lease; 1 when released and nobody was granted; {waiter id, token} when
-- released and the server granted the key to that waiter.

if redis.call('GET', lease) ~= owner then
    leave_queue(waiter)
    return 0
end

redis.call('DEL', lease)
local next_holder, token = hand_over(process)
if next_holder then
    return { next_holder, token }
end
return 1
