using System.Collections.Concurrent;
using Locking.Testing;
using Microsoft.CodeAnalysis;
using StackExchange.Redis;

namespace Locking.Generators.Tests;

/// <summary>What the end-to-end user code implements, so that the tests call the generated wrappers directly.</summary>
public interface IOrders
{
    Task<long> ChargeAsync(string orderId, CancellationToken ct = default);

    ValueTask<bool> RunJobAsync(string name);

    Task WaitBrieflyAsync(string name);

    Task HoldAsync(string name, CancellationToken ct);

    Task NestAsync(string name, string? inner);

    int Increment(string name);
}

/// <summary>What the user code's bodies report to the test, and what they do (replaceable per test).</summary>
public sealed class BodyProbe
{
    private int _inside;
    private int _maxInside;
    private int _runs;

    public ConcurrentQueue<long> FencingTokens { get; } = new();

    public int MaxInside => Volatile.Read(ref _maxInside);

    public int Runs => Volatile.Read(ref _runs);

    public Func<string, LockLease, CancellationToken, Task> Body { get; set; } = (_, _, ct) => Task.Delay(15, ct);

    public async Task RunAsync(string name, LockLease lease, CancellationToken ct)
    {
        var inside = Interlocked.Increment(ref _inside);
        Interlocked.Increment(ref _runs);
        FencingTokens.Enqueue(lease.FencingToken);
        int max;
        while (inside > (max = Volatile.Read(ref _maxInside)) && Interlocked.CompareExchange(ref _maxInside, inside, max) != max)
        {
        }

        try
        {
            await Body(name, lease, ct);
        }
        finally
        {
            Interlocked.Decrement(ref _inside);
        }
    }

    public void Ran() => Interlocked.Increment(ref _runs);
}

/// <summary>One redis-server and one compiled copy of the user code for all end-to-end tests.</summary>
public sealed class EndToEndFixture : IAsyncLifetime
{
    public const string KeyPrefix = "generated:";

    private const string UserCode = """
        using Locking.Generators.Tests;

        namespace EndToEnd;

        public partial class Orders(ILockProvider locks, BodyProbe probe) : IOrders
        {
            private int _counter;

            [Exclusive("orders/{orderId}", Ttl = "5s", Wait = "20s")]
            public partial Task<long> ChargeAsync(string orderId, CancellationToken ct = default);

            private async Task<long> ChargeAsyncCore(string orderId, LockLease lease, CancellationToken ct)
            {
                await probe.RunAsync(orderId, lease, ct);
                return lease.FencingToken;
            }

            [Exclusive("jobs/{name}", Wait = "0", OnBusy = OnBusy.Skip)]
            public partial ValueTask<bool> RunJobAsync(string name);

            private ValueTask<bool> RunJobAsyncCore(string name)
            {
                probe.Ran();
                return ValueTask.FromResult(true);
            }

            [Exclusive("slow/{name}", Wait = "200ms")]
            public partial Task WaitBrieflyAsync(string name);

            private Task WaitBrieflyAsyncCore(string name)
            {
                probe.Ran();
                return Task.CompletedTask;
            }

            [Exclusive("short/{name}", Ttl = "900ms")]
            public partial Task HoldAsync(string name, CancellationToken ct);

            private Task HoldAsyncCore(string name, LockLease lease, CancellationToken ct) => probe.RunAsync(name, lease, ct);

            [Exclusive("nest/{name}")]
            public partial Task NestAsync(string name, string? inner);

            private async Task NestAsyncCore(string name, string? inner)
            {
                probe.Ran();
                if (inner is not null)
                {
                    await NestAsync(inner, null);
                }
            }

            [Exclusive("count/{name}")]
            public partial int Increment(string name);

            private int IncrementCore(string name, LockLease lease) => ++_counter;
        }
        """;

    private static readonly Lazy<Type> s_ordersType = new(() =>
    {
        var testAssembly = MetadataReference.CreateFromFile(typeof(IOrders).Assembly.Location);
        var assembly = GeneratorHarness.CompileAndLoad([testAssembly], UserCode);
        return assembly.GetType("EndToEnd.Orders", throwOnError: true)!;
    });

    private RedisServer? _server;
    private ConnectionMultiplexer? _connection;

    public IDatabase Database => _connection!.GetDatabase();

    public RedisLockProvider Provider { get; private set; } = null!;

    /// <summary>A second provider on the same server: another holder, as another process would be.</summary>
    public RedisLockProvider OtherHolder { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _server = await RedisServer.StartAsync();
        _connection = await _server.ConnectAsync();
        Provider = new RedisLockProvider(_connection, new RedisLockProviderOptions { KeyPrefix = KeyPrefix });
        OtherHolder = new RedisLockProvider(_connection, new RedisLockProviderOptions { KeyPrefix = KeyPrefix });
    }

    public async Task DisposeAsync()
    {
        await Provider.DisposeAsync();
        await OtherHolder.DisposeAsync();
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A fresh instance of the compiled user code with its own probe.</summary>
    public IOrders NewOrders(BodyProbe probe) => (IOrders)Activator.CreateInstance(s_ordersType.Value, Provider, probe)!;

    public static string Unique(string name) => $"{name}-{Guid.NewGuid():N}";
}

/// <summary>
/// User code compiled with the generator, loaded, and run against a real redis-server through the real
/// RedisLockProvider.
/// </summary>
public sealed class EndToEndTests(EndToEndFixture fixture) : IClassFixture<EndToEndFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Eight_concurrent_callers_run_the_body_one_at_a_time_with_increasing_fencing_tokens()
    {
        var probe = new BodyProbe();
        var orders = fixture.NewOrders(probe);
        var orderId = EndToEndFixture.Unique("order");

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => orders.ChargeAsync(orderId)))).WaitAsync(s_timeout);

        Assert.Equal(8, probe.Runs);
        Assert.Equal(1, probe.MaxInside);
        var tokens = probe.FencingTokens.ToArray();
        Assert.Equal(tokens.Order(), tokens);
        Assert.Equal(8, tokens.Distinct().Count());
        Assert.Equal(tokens.Order(), results.Order());
    }

    [Fact]
    public async Task The_body_sees_the_fencing_token_of_its_lease()
    {
        var probe = new BodyProbe();
        var orders = fixture.NewOrders(probe);
        var orderId = EndToEndFixture.Unique("order");

        var first = await orders.ChargeAsync(orderId);
        var second = await orders.ChargeAsync(orderId);

        Assert.True(first > 0);
        Assert.True(second > first, $"{second} should be greater than {first}");
        Assert.Equal([first, second], probe.FencingTokens);
    }

    [Fact]
    public async Task OnBusy_Skip_returns_default_without_running_the_body()
    {
        var probe = new BodyProbe();
        var orders = fixture.NewOrders(probe);
        var name = EndToEndFixture.Unique("job");

        await using (await fixture.OtherHolder.AcquireAsync("jobs/" + name))
        {
            Assert.False(await orders.RunJobAsync(name));
            Assert.Equal(0, probe.Runs);
        }

        Assert.True(await orders.RunJobAsync(name));
        Assert.Equal(1, probe.Runs);
    }

    [Fact]
    public async Task A_key_still_busy_after_Wait_throws_LockNotAcquiredException()
    {
        var probe = new BodyProbe();
        var orders = fixture.NewOrders(probe);
        var name = EndToEndFixture.Unique("slow");

        await using var held = await fixture.OtherHolder.AcquireAsync("slow/" + name);
        var busy = await Assert.ThrowsAsync<LockNotAcquiredException>(() => orders.WaitBrieflyAsync(name));

        Assert.Equal("slow/" + name, busy.Key);
        Assert.True(busy.Waited >= TimeSpan.FromMilliseconds(150), $"waited only {busy.Waited}");
        Assert.Equal(0, probe.Runs);
    }

    [Fact]
    public async Task Losing_the_lease_cancels_the_body_and_the_caller_gets_LeaseLostException()
    {
        var started = new TaskCompletionSource<LockLease>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bodyCancelled = false;
        var probe = new BodyProbe
        {
            Body = async (_, lease, ct) =>
            {
                started.SetResult(lease);
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    bodyCancelled = true;
                    throw;
                }
            },
        };
        var orders = fixture.NewOrders(probe);
        var name = EndToEndFixture.Unique("short");

        var call = orders.HoldAsync(name, CancellationToken.None);
        var lease = await started.Task.WaitAsync(s_timeout);
        Assert.True(await fixture.Database.KeyDeleteAsync($"{EndToEndFixture.KeyPrefix}{{short/{name}}}"), "the lease key was not where the test expected it");

        var lost = await Assert.ThrowsAsync<LeaseLostException>(() => call.WaitAsync(s_timeout));

        Assert.True(bodyCancelled);
        Assert.IsAssignableFrom<OperationCanceledException>(lost.InnerException);
        Assert.Equal(lease.FencingToken, lost.FencingToken);
        Assert.Equal("short/" + name, lost.Key);
    }

    [Fact]
    public async Task A_body_that_ends_normally_after_the_lease_was_lost_still_gives_the_caller_LeaseLostException()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new BodyProbe
        {
            Body = async (_, lease, _) =>
            {
                var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using var registration = lease.LostToken.Register(() => lost.TrySetResult());
                started.SetResult();
                await lost.Task; // ignores its token, then returns normally
            },
        };
        var orders = fixture.NewOrders(probe);
        var name = EndToEndFixture.Unique("short");

        var call = orders.HoldAsync(name, CancellationToken.None);
        await started.Task.WaitAsync(s_timeout);
        await fixture.Database.KeyDeleteAsync($"{EndToEndFixture.KeyPrefix}{{short/{name}}}");

        var lost = await Assert.ThrowsAsync<LeaseLostException>(() => call.WaitAsync(s_timeout));
        Assert.Null(lost.InnerException);
    }

    [Fact]
    public async Task Calling_an_exclusive_method_with_the_key_already_held_in_the_flow_throws_LockRecursionException()
    {
        var probe = new BodyProbe();
        var orders = fixture.NewOrders(probe);
        var name = EndToEndFixture.Unique("nest");
        var other = EndToEndFixture.Unique("nest");

        await Assert.ThrowsAsync<LockRecursionException>(() => orders.NestAsync(name, inner: name).WaitAsync(s_timeout));
        Assert.Equal(1, probe.Runs);

        // Another key nests fine, and the failed call released its lease.
        await orders.NestAsync(name, inner: other).WaitAsync(s_timeout);
        Assert.Equal(3, probe.Runs);
    }

    [Fact]
    public async Task The_caller_cancelling_cancels_the_body_and_releases_the_lease()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new BodyProbe
        {
            Body = async (_, _, ct) =>
            {
                started.SetResult();
                await Task.Delay(Timeout.Infinite, ct);
            },
        };
        var orders = fixture.NewOrders(probe);
        var orderId = EndToEndFixture.Unique("order");
        using var cancellation = new CancellationTokenSource();

        var call = orders.ChargeAsync(orderId, cancellation.Token);
        await started.Task.WaitAsync(s_timeout);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(s_timeout));
        await using var again = await fixture.OtherHolder.TryAcquireAsync("orders/" + orderId, new LockOptions { Wait = TimeSpan.Zero });
        Assert.NotNull(again);
    }

    [Fact]
    public async Task The_caller_cancelling_while_waiting_for_a_busy_key_stops_the_wait()
    {
        var probe = new BodyProbe();
        var orders = fixture.NewOrders(probe);
        var orderId = EndToEndFixture.Unique("order");
        await using var held = await fixture.OtherHolder.AcquireAsync("orders/" + orderId);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => orders.ChargeAsync(orderId, cancellation.Token).WaitAsync(s_timeout));
        Assert.Equal(0, probe.Runs);
    }

    [Fact]
    public async Task A_null_placeholder_throws_ArgumentNullException_naming_the_parameter_before_any_acquire()
    {
        var orders = fixture.NewOrders(new BodyProbe());

        var error = await Assert.ThrowsAsync<ArgumentNullException>(() => orders.ChargeAsync(null!));

        Assert.Equal("orderId", error.ParamName);
        Assert.Contains("{orderId}", error.Message);
    }

    [Fact]
    public async Task The_body_exception_reaches_the_caller_and_the_lease_is_released()
    {
        var probe = new BodyProbe { Body = (_, _, _) => throw new InvalidOperationException("payment declined") };
        var orders = fixture.NewOrders(probe);
        var orderId = EndToEndFixture.Unique("order");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => orders.ChargeAsync(orderId));

        Assert.Equal("payment declined", error.Message);
        await using var again = await fixture.OtherHolder.TryAcquireAsync("orders/" + orderId, new LockOptions { Wait = TimeSpan.Zero });
        Assert.NotNull(again);
    }

    [Fact]
    public async Task A_synchronous_method_blocks_on_the_acquire_and_runs_under_the_lease()
    {
        var orders = fixture.NewOrders(new BodyProbe());
        var name = EndToEndFixture.Unique("count");

        var values = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => orders.Increment(name)))).WaitAsync(s_timeout);

        Assert.Equal([1, 2, 3, 4], values.Order());
    }
}
