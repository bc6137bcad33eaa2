// libtorch's random generator is process-wide: a test that seeds it and then builds a model
// must not run beside another that draws from it, or its weights depend on timing.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace TrainTune.Tests
{
    internal static class TestSetup
    {
        /// <summary>Parsed datasets of the tests go to a folder of this test run, not the user's cache.</summary>
        [System.Runtime.CompilerServices.ModuleInitializer]
        internal static void UseATemporaryParsedDataCache() =>
            ParsedDataCache.Folder = Directory.CreateTempSubdirectory("traintune-parsed-cache-").FullName;
    }
}
