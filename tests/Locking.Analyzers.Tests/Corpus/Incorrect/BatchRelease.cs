// A release sent in a batch with the job's bookkeeping: a batch is not a condition, so it is still a plain DEL.
public sealed class ExportBatches(IDatabase db)
{
    public async Task<bool> ExportAsync(string export, string owner, Func<Task<int>> run)
    {
        var lockKey = "export-lock:" + export;
        if (!await db.LockTakeAsync(lockKey, owner, TimeSpan.FromMinutes(2)))
        {
            return false;
        }

        var rows = await run();
        var batch = db.CreateBatch();
        _ = batch.StringSetAsync("export:" + export + ":rows", rows);
        _ = {|LOCK002:batch.KeyDeleteAsync(lockKey)|};
        batch.Execute();
        return true;
    }
}
