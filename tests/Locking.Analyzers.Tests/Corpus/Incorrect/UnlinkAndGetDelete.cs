// Other plain deletes of a lock key: UNLINK sent as a raw command, GETDEL that reads the old owner back, and a
// "release" script that deletes without comparing anything.
public sealed class CrawlerLocks(IDatabase db)
{
    private const string DropScript = "return redis.call('unlink', KEYS[1])";

    private static RedisKey DomainLock(string domain) => $"crawl:{domain}:lock";

    public Task<bool> TryCrawlAsync(string domain, string crawler) => db.LockTakeAsync(DomainLock(domain), crawler, TimeSpan.FromMinutes(1));

    public Task<RedisResult> DoneAsync(string domain) => {|LOCK002:db.ExecuteAsync("UNLINK", DomainLock(domain))|};

    public async Task<string?> DoneAndReportAsync(string domain) => await {|LOCK002:db.StringGetDeleteAsync(DomainLock(domain))|};

    public Task<RedisResult> DropAsync(string domain) => {|LOCK002:db.ScriptEvaluateAsync(DropScript, new[] { DomainLock(domain) })|};
}
