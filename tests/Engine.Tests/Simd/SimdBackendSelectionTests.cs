using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Simd;

/// <summary>How the simd backend and its instruction-set path are chosen: Backends.Create, InstructionSets.Parse.</summary>
public class SimdBackendSelectionTests
{
    public static IEnumerable<object[]> IsaThreads() =>
        from isa in SupportedIsas from threads in new[] { 1, 2, 3, 4 } select new object[] { isa, threads };

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void Create_simd_returns_simd_kernels_with_that_path_and_thread_count(InstructionSet isa, int threads)
    {
        using IKernels kernels = Backends.Create("simd", threads, isa);
        var simd = Assert.IsType<SimdKernels>(kernels);
        Assert.Equal("simd", simd.Name);
        Assert.Equal(isa, simd.InstructionSet);
        Assert.Equal(threads, simd.Threads);
    }

    [Fact]
    public void Scalar_is_always_supported_and_best_is_supported()
    {
        Assert.Contains(InstructionSet.Scalar, SupportedIsas);
        Assert.True(InstructionSets.IsSupported(InstructionSets.Best));
        // Best is the widest supported path.
        foreach (var isa in SupportedIsas) Assert.True(isa <= InstructionSets.Best, $"{isa} is supported but Best is {InstructionSets.Best}");
    }

    [Fact]
    public void Create_reference_and_unknown_backends()
    {
        Assert.Same(ReferenceKernels.Instance, Backends.Create("reference"));
        Assert.Throws<EngineException>(() => Backends.Create("simd2"));
        Assert.Throws<EngineException>(() => Backends.Create("avx512"));
    }

    [Fact]
    public void Simd_rejects_fewer_than_one_thread_and_unsupported_paths()
    {
        Assert.Throws<EngineException>(() => new SimdKernels(InstructionSet.Scalar, 0));
        Assert.Throws<EngineException>(() => Backends.Create("simd", 0, InstructionSet.Scalar));
        foreach (var isa in Enum.GetValues<InstructionSet>().Where(i => !InstructionSets.IsSupported(i)))
        {
            Assert.Throws<EngineException>(() => new SimdKernels(isa, 1));
            Assert.Throws<EngineException>(() => InstructionSets.Parse(isa.Name()));
        }
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("avx")]
    [InlineData("avx1024")]
    [InlineData("neon")]
    [InlineData("simd")]
    [InlineData("avx2 avx512")]
    [InlineData("512")]
    public void Parse_rejects_unknown_names(string name)
    {
        var e = Assert.Throws<EngineException>(() => InstructionSets.Parse(name));
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Parse_accepts_every_supported_name_in_any_case_and_auto_is_best()
    {
        foreach (var isa in SupportedIsas)
        {
            Assert.Equal(isa, InstructionSets.Parse(isa.Name()));
            Assert.Equal(isa, InstructionSets.Parse($"  {isa.Name().ToUpperInvariant()} "));
        }
        Assert.Equal(InstructionSets.Best, InstructionSets.Parse("auto"));
        Assert.Equal(InstructionSets.Best, InstructionSets.Parse("AUTO"));
        Assert.Null(InstructionSets.Parse(null));
        Assert.Null(InstructionSets.Parse(""));
        Assert.Null(InstructionSets.Parse("   "));
    }
}

/// <summary>
/// ENGINE_ISA is process-wide state: these tests change it, so they run alone (no other test runs in parallel
/// with this collection) and always restore the original value.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EngineIsaEnvironmentCollection
{
    public const string Name = "ENGINE_ISA environment variable";
}

[Collection(EngineIsaEnvironmentCollection.Name)]
public class SimdIsaEnvironmentTests
{
    static void WithEngineIsa(string? value, Action body)
    {
        string? saved = Environment.GetEnvironmentVariable(InstructionSets.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(InstructionSets.EnvironmentVariable, value);
            body();
        }
        finally
        {
            Environment.SetEnvironmentVariable(InstructionSets.EnvironmentVariable, saved);
        }
    }

    [Fact]
    public void Engine_isa_is_honoured_by_resolve_and_by_create_without_an_explicit_path()
    {
        foreach (var isa in SupportedIsas)
            foreach (string spelling in new[] { isa.Name(), isa.Name().ToUpperInvariant(), $" {isa.Name()} " })
                WithEngineIsa(spelling, () =>
                {
                    Assert.Equal(isa, InstructionSets.Resolve(null));
                    Assert.Equal(isa, InstructionSets.Resolve(""));
                    using IKernels kernels = Backends.Create("simd", 2);
                    var simd = Assert.IsType<SimdKernels>(kernels);
                    Assert.Equal(isa, simd.InstructionSet);
                    Assert.Equal(2, simd.Threads);
                });
    }

    [Fact]
    public void An_explicit_choice_overrides_engine_isa()
    {
        WithEngineIsa(InstructionSets.Best.Name(), () =>
        {
            Assert.Equal(InstructionSet.Scalar, InstructionSets.Resolve("scalar"));
            using IKernels kernels = Backends.Create("simd", 1, InstructionSet.Scalar);
            Assert.Equal(InstructionSet.Scalar, Assert.IsType<SimdKernels>(kernels).InstructionSet);
        });
        WithEngineIsa("scalar", () => Assert.Equal(InstructionSets.Best, InstructionSets.Resolve("auto")));
    }

    [Fact]
    public void Unset_empty_or_auto_engine_isa_means_the_best_path()
    {
        foreach (string? value in new[] { null, "", "auto" })
            WithEngineIsa(value, () =>
            {
                Assert.Equal(InstructionSets.Best, InstructionSets.Resolve(null));
                using IKernels kernels = Backends.Create("simd", 1);
                Assert.Equal(InstructionSets.Best, Assert.IsType<SimdKernels>(kernels).InstructionSet);
            });
    }

    [Fact]
    public void Unknown_engine_isa_is_an_error()
    {
        WithEngineIsa("avx1024", () =>
        {
            var e = Assert.Throws<EngineException>(() => InstructionSets.Resolve(null));
            Assert.Contains("avx1024", e.Message);
            Assert.Throws<EngineException>(() => Backends.Create("simd", 1));
            // An explicit choice does not consult the variable.
            Assert.Equal(InstructionSet.Scalar, InstructionSets.Resolve("scalar"));
        });
    }
}
