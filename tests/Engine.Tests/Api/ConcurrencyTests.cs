using Engine.Data;
using Engine.Kernels;
using Engine.Tests.Data;
using Engine.Training;
using Xunit;

namespace Engine.Tests.Api;

/// <summary>One model shared by many threads, two trainers side by side, and memory over many cycles.</summary>
public class ConcurrencyTests
{
    static readonly Lazy<LoadedData> Digits = new(() => DataSource.Load(RepoPaths.BundledData));

    static Classifier Trained(string backend, int threads)
    {
        var train = Digits.Value.Train.Subset(Enumerable.Range(0, 1000).ToArray(), "train 1000");
        var model = Classifier.Create(784, [32], 10, Activation.Tanh, InputScaling.Divide(255f), seed: 2, new ComputeOptions(backend, threads));
        model.Train(train, new TrainingOptions(2, 32, 0.1f, 1e-4f, 0, true));
        return model;
    }

    [Theory]
    [InlineData("simd")]
    [InlineData("reference")]
    public void Eight_threads_making_10000_predictions_each_get_the_single_threaded_results(string backend)
    {
        using var model = Trained(backend, 2);
        Dataset test = Digits.Value.Test!;
        float[] expected = model.PredictProbabilities(test);
        int k = model.ClassCount, n = test.Count;
        var mismatches = new int[8];
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var rng = new Random(t);
            for (int done = 0; done < 10_000;)
            {
                // Batches of 1..400 rows from random places: different workspace sizes interleave across threads.
                int rows = rng.Next(1, 401), start = rng.Next(0, n - rows);
                float[] p = model.PredictProbabilities(test.Features.AsSpan(start * 784, rows * 784), rows);
                if (!p.AsSpan().SequenceEqual(expected.AsSpan(start * k, rows * k))) mismatches[t]++;
                done += rows;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.All(mismatches, m => Assert.Equal(0, m));
    }

    [Fact]
    public void Two_trainers_with_their_own_thread_counts_do_not_interfere()
    {
        var train = Digits.Value.Train.Subset(Enumerable.Range(0, 1000).ToArray(), "train 1000");
        float[] Alone(string backend, int threads)
        {
            using var m = Trained(backend, threads);
            return m.PredictProbabilities(Digits.Value.Test!);
        }
        float[] simdAlone = Alone("simd", 2), referenceAlone = Alone("reference", 1);
        float[]? simdTogether = null, referenceTogether = null;
        var a = new Thread(() => simdTogether = Alone("simd", 2));
        var b = new Thread(() => referenceTogether = Alone("reference", 1));
        a.Start(); b.Start(); a.Join(); b.Join();
        Assert.Equal(simdAlone, simdTogether);
        Assert.Equal(referenceAlone, referenceTogether);
        Assert.Equal(simdAlone, referenceAlone); // and the backends agree bit for bit
    }

    [Fact]
    public void Overlapping_calls_on_one_simd_backend_are_refused_not_corrupting()
    {
        using IKernels simd = Backends.Create("simd", 2);
        var a = new float[96 * 96];
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            var c = new float[96 * 96];
            for (int i = 0; i < 2000; i++)
            {
                try { simd.Gemm(Transpose.No, Transpose.No, new Numerics.ReadOnlyMatrixView(a, 96, 96), new Numerics.ReadOnlyMatrixView(a, 96, 96), new Numerics.MatrixView(c, 96, 96), false); }
                catch (Exception e) { errors.Add(e); }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.NotEmpty(errors); // four threads hammering one backend do overlap
        Assert.All(errors, e => Assert.IsType<InvalidOperationException>(e));
    }
}

public class ConcurrentSaveTests
{
    [Fact]
    public void Concurrent_saves_to_one_path_leave_one_complete_file_and_no_temp_files()
    {
        using var dir = new ScratchDirectory();
        string path = dir.File("shared.model");
        var models = Enumerable.Range(0, 4).Select(i => Classifier.Create(784, [64], 10, Activation.Tanh, InputScaling.Divide(255f), seed: (ulong)i)).ToArray();
        var threads = models.Select(m => new Thread(() => { for (int i = 0; i < 25; i++) m.Save(path); })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        using var loaded = Classifier.Load(path); // checksums verified: one complete file, not a mix
        Assert.Equal(["shared.model"], Directory.GetFiles(dir.Path).Select(System.IO.Path.GetFileName));
        foreach (var m in models) m.Dispose();
    }
}

/// <summary>Process-wide measurements (heap, thread count): run alone, not beside other test classes.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public class RunsAlone;

[Collection(nameof(RunsAlone))]
public class MemoryTests
{
    static readonly Lazy<LoadedData> Digits = new(() => DataSource.Load(RepoPaths.BundledData));

    [Fact]
    public void Memory_stays_flat_over_100_train_and_predict_cycles()
    {
        var train = Digits.Value.Train.Subset(Enumerable.Range(0, 256).ToArray(), "train 256");
        Dataset test = Digits.Value.Test!.Subset(Enumerable.Range(0, 256).ToArray(), "test 256");
        long Cycle(int count)
        {
            for (int i = 0; i < count; i++)
            {
                using var model = Classifier.Create(784, [32], 10, Activation.Tanh, InputScaling.Divide(255f), seed: (ulong)i, new ComputeOptions("simd", 2));
                model.Train(train, new TrainingOptions(1, 32, 0.1f, 1e-4f, 0, true));
                model.PredictProbabilities(test);
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return GC.GetTotalMemory(forceFullCollection: true);
        }
        long after10 = Cycle(10), after110 = Cycle(100);
        Assert.True(after110 - after10 < 4 << 20, $"managed heap grew from {after10:N0} to {after110:N0} bytes over 100 cycles");
        int threadsBefore = System.Diagnostics.Process.GetCurrentProcess().Threads.Count;
        Cycle(20);
        int threadsAfter = System.Diagnostics.Process.GetCurrentProcess().Threads.Count;
        Assert.True(threadsAfter - threadsBefore < 8, $"threads {threadsBefore} -> {threadsAfter}: disposed models leave workers behind");
    }

}
