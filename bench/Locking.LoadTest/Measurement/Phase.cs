namespace Locking.LoadTest.Measurement;

/// <summary>
/// Where a run is: workers run the same loop throughout and count only what completes while <see cref="Measuring"/>,
/// so the measured window never includes start-up, JIT or the tail of stopping.
/// </summary>
internal sealed class Phase
{
    private const int WarmingUp = 0;
    private const int Measure = 1;
    private const int Stop = 2;
    private volatile int _value;

    public bool Measuring => _value == Measure;

    public bool Stopped => _value == Stop;

    public void StartMeasuring() => _value = Measure;

    public void StopAll() => _value = Stop;
}
