// Check, set, expire: three commands for one acquire, and a plain delete to release.
public sealed class ThumbnailWorker(IDatabase db)
{
    public bool TryClaim(string imageId, string worker)
    {
        var key = "lock:thumb:" + imageId;
        if (db.KeyExists(key))
        {
            return false;
        }

        {|LOCK004:db.StringSet(key, worker)|};
        db.KeyExpire(key, TimeSpan.FromMinutes(2));
        return true;
    }

    public void Release(string imageId) => {|LOCK002:db.KeyDelete("lock:thumb:" + imageId)|};
}
