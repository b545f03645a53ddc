// A cache's refresh lock: set without an expiry and expired afterwards, then deleted whoever holds it.
public sealed class PriceCache(IDatabase db, Func<string, Task<decimal>> source)
{
    public async Task<decimal> GetAsync(string sku)
    {
        var cached = await db.StringGetAsync("price:" + sku);
        if (cached.HasValue)
        {
            return (decimal)(double)cached;
        }

        var refreshKey = "price:" + sku + ":refreshing";
        if (await {|LOCK004:db.StringSetAsync(refreshKey, Environment.MachineName, null, When.NotExists)|})
        {
            await db.KeyExpireAsync(refreshKey, TimeSpan.FromSeconds(30));
            try
            {
                var price = await source(sku);
                await db.StringSetAsync("price:" + sku, (double)price, TimeSpan.FromMinutes(5));
                return price;
            }
            finally
            {
                await {|LOCK002:db.KeyDeleteAsync(refreshKey)|};
            }
        }

        return await source(sku);
    }
}
