// The first pitfall of many "Redis lock pitfalls" articles, in C#: SETNX, and only if it worked, EXPIRE. A crash
// between the two leaves a lock nobody can take again; the release is a plain DEL on top.
public sealed class CouponRedemption(IDatabase db)
{
    public async Task<bool> RedeemAsync(string couponCode, string customer)
    {
        var lockKey = "coupon_lock_" + couponCode;
        var lockValue = customer + ":" + Guid.NewGuid().ToString("N");
        if (await {|LOCK004:db.StringSetAsync(lockKey, lockValue, when: When.NotExists)|})
        {
            await db.KeyExpireAsync(lockKey, TimeSpan.FromSeconds(10));
            try
            {
                return await db.SetAddAsync("coupon:" + couponCode + ":redeemed", customer);
            }
            finally
            {
                await {|LOCK002:db.KeyDeleteAsync(lockKey)|};
            }
        }

        return false;
    }
}
