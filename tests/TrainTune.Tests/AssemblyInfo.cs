// libtorch's random generator is process-wide: a test that seeds it and then builds a model
// must not run beside another that draws from it, or its weights depend on timing.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
