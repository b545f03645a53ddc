using System.Diagnostics;

namespace Locking.LoadTest.Measurement;

/// <summary>
/// A log-linear histogram of latencies in microseconds: exact below 256 µs, then 128 buckets per power of two
/// (under 1 % error). Fixed size, so recording never allocates inside a measured loop.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int ExactBelow = 256;       // 2^8
    private const int SubBucketBits = 7;      // 128 buckets per octave
    private const int Octaves = 40;           // up to 2^48 µs, far beyond any run
    private readonly long[] _counts = new long[ExactBelow + Octaves * (1 << SubBucketBits)];

    public long Count { get; private set; }

    public long MaxMicroseconds { get; private set; }

    /// <summary>Records the time between two <see cref="Stopwatch.GetTimestamp"/> readings.</summary>
    public void RecordTicks(long elapsedTicks) => Record(elapsedTicks * 1_000_000 / Stopwatch.Frequency);

    public void Record(long microseconds)
    {
        if (microseconds < 0)
        {
            microseconds = 0;
        }

        _counts[Index(microseconds)]++;
        Count++;
        if (microseconds > MaxMicroseconds)
        {
            MaxMicroseconds = microseconds;
        }
    }

    private static int Index(long value)
    {
        if (value < ExactBelow)
        {
            return (int)value;
        }

        var exponent = 63 - (int)long.LeadingZeroCount(value);         // >= 8
        var sub = (int)(value >> (exponent - SubBucketBits)) & ((1 << SubBucketBits) - 1);
        var index = ExactBelow + (exponent - 8) * (1 << SubBucketBits) + sub;
        return Math.Min(index, ExactBelowPlusAll - 1);
    }

    private static int ExactBelowPlusAll => ExactBelow + Octaves * (1 << SubBucketBits);

    /// <summary>The middle of bucket <paramref name="index"/>.</summary>
    private static long ValueOf(int index)
    {
        if (index < ExactBelow)
        {
            return index;
        }

        var octave = (index - ExactBelow) >> SubBucketBits;
        var sub = (index - ExactBelow) & ((1 << SubBucketBits) - 1);
        var exponent = octave + 8;
        var width = 1L << (exponent - SubBucketBits);
        var low = (1L << exponent) + sub * width;
        return low + width / 2;
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        MaxMicroseconds = Math.Max(MaxMicroseconds, other.MaxMicroseconds);
    }

    /// <summary>The latency at or below which <paramref name="fraction"/> of the recorded values lie.</summary>
    public long Percentile(double fraction)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(fraction * Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(ValueOf(i), MaxMicroseconds);
            }
        }

        return MaxMicroseconds;
    }
}
