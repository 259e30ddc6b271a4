using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project bench/Engine.Bench -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Engine.Bench.SimdGemmBenchmarks).Assembly).Run(args);
