using System.Diagnostics;
using Locking.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Locking.Observability.Tests;

/// <summary>
/// What an app that wires OpenTelemetry the documented way gets from Locking, read back through the real SDK and its
/// in-memory exporters, against a real redis-server.
/// </summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly List<MetricSnapshot> _metrics = [];
    private readonly List<Activity> _spans = [];
    private readonly LogCapture _logs = new();
    private RedisServer _redis = null!;
    private IHost _host = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }

        await _redis.DisposeAsync();
    }

    private ILockProvider StartHost(bool includeKeys = true)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(_logs).SetMinimumLevel(LogLevel.Trace);
        builder.Services.AddLocking(locking => locking
            .UseRedis(_redis.Configuration().ToString())
            .ConfigureTelemetry(telemetry => telemetry.IncludeKeys = includeKeys));
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter("Locking").AddInMemoryExporter(_metrics))
            .WithTracing(tracing => tracing.AddSource("Locking").AddInMemoryExporter(_spans));
        _host = builder.Build();
        _host.Start();
        return _host.Services.GetRequiredService<ILockProvider>();
    }

    /// <summary>Exports what the SDK aggregated so far and returns the points of <paramref name="name"/>.</summary>
    private List<MetricPoint> Points(string name)
    {
        _metrics.Clear();
        Assert.True(_host.Services.GetRequiredService<MeterProvider>().ForceFlush(), "the meter provider did not flush");
        return _metrics.Where(metric => metric.Name == name).SelectMany(metric => metric.MetricPoints).ToList();
    }

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key)
            {
                return tag.Value?.ToString();
            }
        }

        return null;
    }

    private static long HistogramCount(IEnumerable<MetricPoint> points, string outcome)
        => points.Where(point => Tag(point, "locking.acquire.outcome") == outcome).Sum(point => point.GetHistogramCount());

    [Fact]
    public async Task An_acquire_and_release_are_a_span_with_the_key_and_seconds_histograms()
    {
        var locks = StartHost();
        var key = $"orders/{Guid.NewGuid():N}";

        await using (var lease = await locks.AcquireAsync(key))
        {
            var active = Points("locking.active_leases");
            Assert.Equal(1, active.Sum(point => point.GetSumLong()));
            Assert.Equal("redis", Tag(active.Single(), "locking.store"));
        }

        var acquire = Points("locking.acquire.duration");
        Assert.Equal(1, HistogramCount(acquire, "acquired"));
        Assert.All(acquire, point => Assert.Equal("redis", Tag(point, "locking.store")));
        Assert.Equal("s", _metrics.First(metric => metric.Name == "locking.acquire.duration").Unit);
        Assert.Equal(1, Points("locking.hold.duration").Sum(point => point.GetHistogramCount()));
        Assert.Equal(0, Points("locking.active_leases").Sum(point => point.GetSumLong()));

        var span = Assert.Single(_spans, span => span.OperationName == "locking.acquire");
        Assert.Equal(key, span.GetTagItem("locking.key"));
        Assert.Equal("redis", span.GetTagItem("locking.store"));
        Assert.Equal("acquired", span.GetTagItem("locking.acquire.outcome"));
        Assert.Equal(false, span.GetTagItem("locking.acquire.contended"));
        Assert.True(span.GetTagItem("locking.fencing_token") is long token && token > 0);
    }

    [Fact]
    public async Task A_busy_key_counts_as_contended_and_its_wait_is_measured()
    {
        var locks = StartHost();
        var key = $"jobs/{Guid.NewGuid():N}";
        // Another flow holds the key (the same flow would get LockRecursionException).
        await using var holder = await Task.Run(() => locks.AcquireAsync(key).AsTask());

        var second = await locks.TryAcquireAsync(key, new LockOptions { Wait = TimeSpan.FromMilliseconds(200) });

        Assert.Null(second);
        Assert.Equal(1, Points("locking.contended_acquires").Sum(point => point.GetSumLong()));
        Assert.Equal(1, HistogramCount(Points("locking.wait.duration"), "busy"));
        Assert.Equal(1, HistogramCount(Points("locking.acquire.duration"), "busy"));
        var busy = Assert.Single(_spans, span => (string?)span.GetTagItem("locking.acquire.outcome") == "busy");
        Assert.Equal(true, busy.GetTagItem("locking.acquire.contended"));
    }

    [Fact]
    public async Task Keys_can_be_kept_out_of_logs_and_spans()
    {
        var locks = StartHost(includeKeys: false);
        var key = $"users/{Guid.NewGuid():N}@example.org";

        await (await locks.AcquireAsync(key)).DisposeAsync();

        var span = Assert.Single(_spans, span => span.OperationName == "locking.acquire");
        Assert.Null(span.GetTagItem("locking.key"));
        Assert.Contains(_logs.Entries, entry => entry.Message.Contains("(key hidden)", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Entries, entry => entry.Message.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_provider_built_by_hand_keeps_keys_out_of_its_logs_when_told()
    {
        using var loggers = LoggerFactory.Create(logging => logging.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.Configuration());
        await using var locks = new RedisLockProvider(connection, logger: loggers.CreateLogger<RedisLockProvider>())
        {
            IncludeKeysInTelemetry = false,
        };
        var key = $"users/{Guid.NewGuid():N}@example.org";

        await (await locks.AcquireAsync(key)).DisposeAsync();

        Assert.False(locks.IncludeKeysInTelemetry);
        Assert.Contains(_logs.Entries, entry => entry.Message.Contains("(key hidden)", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Entries, entry => entry.Message.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_lease_lost_to_a_dead_store_logs_one_warning_and_the_errors_at_debug()
    {
        var locks = StartHost();
        var key = $"reports/{Guid.NewGuid():N}";
        var lease = await locks.AcquireAsync(key, new LockOptions { Ttl = TimeSpan.FromMilliseconds(600) });
        var lost = new TaskCompletionSource();
        using var registration = lease.LostToken.Register(lost.SetResult);

        _redis.Kill();
        await lost.Task.WaitAsync(Patience);
        await lease.DisposeAsync();

        // The store's error reaches the log when the call that met it ends: a renewal in flight may outlast the
        // validity, and the release of a lost lease runs in the background.
        var error = await _logs.WaitForAsync(
            entry => entry.Message.Contains(key, StringComparison.Ordinal) && entry.Exception is not null, Patience);
        Assert.Equal(LogLevel.Debug, error.Level);
        var aboutThisLease = _logs.Entries.Where(entry => entry.Message.Contains(key, StringComparison.Ordinal)).ToList();
        var warning = Assert.Single(aboutThisLease, entry => entry.Level >= LogLevel.Warning);
        Assert.StartsWith($"Lost lock '{key}'", warning.Message, StringComparison.Ordinal);
        Assert.Contains("LostToken has fired", warning.Message, StringComparison.Ordinal);
        Assert.Null(warning.Exception);
        Assert.DoesNotContain(aboutThisLease, entry => entry.Exception is not null && entry.Level != LogLevel.Debug);
        Assert.Equal(1, Points("locking.lost_leases").Sum(point => point.GetSumLong()));
        var hold = Points("locking.hold.duration");
        Assert.Equal(1, hold.Where(point => Tag(point, "locking.lease.lost") == "True").Sum(point => point.GetHistogramCount()));
    }
}
