using Engine.Data;
using Engine.Kernels;
using Engine.Numerics;
using Engine.Training;

namespace Engine.Bench;

static class BenchData
{
    public static float[] Random(int n, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.NextFloat() - 0.5f;
        return x;
    }

    /// <summary>(M, N, K, transA, transB) from "MxNxK OP".</summary>
    public static (int M, int N, int K, Transpose A, Transpose B) Parse(string shape)
    {
        string[] words = shape.Split(' ');
        int[] d = words[0].Split('x').Select(int.Parse).ToArray();
        string op = words.Length > 1 ? words[1] : "NN";
        return (d[0], d[1], d[2], op[0] == 'T' ? Transpose.Yes : Transpose.No, op[1] == 'T' ? Transpose.Yes : Transpose.No);
    }

    public static void Gemm(IKernels kernels, (int M, int N, int K, Transpose A, Transpose B) s, float[] a, float[] b, float[] c)
    {
        var av = s.A == Transpose.No ? new ReadOnlyMatrixView(a, s.M, s.K) : new ReadOnlyMatrixView(a, s.K, s.M);
        var bv = s.B == Transpose.No ? new ReadOnlyMatrixView(b, s.K, s.N) : new ReadOnlyMatrixView(b, s.N, s.K);
        kernels.Gemm(s.A, s.B, av, bv, new MatrixView(c, s.M, s.N), accumulate: false);
    }

    public const string FashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>Fashion-MNIST's 60,000 training images as read (0..255), or random data of that range and shape.</summary>
    public static Dataset RawTrainingSet()
    {
        if (Directory.Exists(FashionMnist)) return DataSource.Load(FashionMnist).Train;
        var rng = new SplitMix64(9);
        var x = new float[60_000 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(256);
        return new Dataset(x, new int[60_000], 60_000, 784, "random 60000x784 bytes");
    }

    /// <summary>Fashion-MNIST's 60,000 training images scaled to [0, 1] (Debian's dataset-fashion-mnist), or
    /// random data of the same shape when it is not installed (the arithmetic, and so the time, is the same).</summary>
    public static Dataset TrainingSet()
    {
        if (Directory.Exists(FashionMnist))
        {
            var train = DataSource.Load(FashionMnist).Train;
            return InputScaling.FitMax(train).Apply(train);
        }
        var rng = new SplitMix64(9);
        var x = new float[60_000 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        var y = new int[60_000];
        for (int i = 0; i < y.Length; i++) y[i] = rng.NextInt(10);
        return new Dataset(x, y, 60_000, 784, "random 60000x784");
    }
}
