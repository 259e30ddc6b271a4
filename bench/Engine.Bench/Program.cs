using BenchmarkDotNet.Running;
using Engine.Bench;

// BenchmarkDotNet:   dotnet run -c Release --project bench/Engine.Bench -- --filter '*'
// Epoch profile:     dotnet run -c Release --project bench/Engine.Bench -- profile-step [threads] [batch] [epochs]
// Inference profile: dotnet run -c Release --project bench/Engine.Bench -- profile-inference [threads] [rounds] [batch] [hidden] [raw]
// Weight layouts:    dotnet run -c Release --project bench/Engine.Bench -- profile-layout [N]
// Worker hand-off:   dotnet run -c Release --project bench/Engine.Bench -- profile-handoff [work µs] [runs]
// Beside ORT:        dotnet run -c Release --project bench/Engine.Bench -- profile-ort [threads] [batch] [rounds] [hidden]
// Aligned operands:  dotnet run -c Release --project bench/Engine.Bench -- profile-alignment BATCH THREADS ROUNDS MISALIGN PLAN [PLAN...]
// GEMM plans:        dotnet run -c Release --project bench/Engine.Bench -- profile-plans SHAPE THREADS ROUNDS PLAN [PLAN...]
if (args.Length > 0 && args[0] == "profile-step") StepProfile.Run(args[1..]);
else if (args.Length > 0 && args[0] == "profile-inference") StepProfile.RunInference(args[1..]);
else if (args.Length > 0 && args[0] == "profile-layout") LayoutProfile.Run(args[1..]);
else if (args.Length > 0 && args[0] == "profile-handoff") HandOffProfile.Run(args[1..]);
else if (args.Length > 0 && args[0] == "profile-plans") PlanProfile.Run(args[1..]);
else if (args.Length > 0 && args[0] == "profile-ort") OrtProfile.Run(args[1..]);
else if (args.Length > 0 && args[0] == "profile-alignment") AlignmentProfile.Run(args[1..]);
else BenchmarkSwitcher.FromAssembly(typeof(SimdGemmBenchmarks).Assembly).Run(args);
