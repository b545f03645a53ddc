// Locking's Meter and ActivitySource are static: every listener hears every test's locks. The classes run one at a
// time so that what a test reads back is its own.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
