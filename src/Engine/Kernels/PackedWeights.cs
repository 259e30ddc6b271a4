namespace Engine.Kernels;

/// <summary>
/// A weight matrix W (K×N, the untransposed B of x·W) copied once into a backend's GEMM panel layout, for products that
/// use the same weights call after call (inference): the product then reads each NR-column panel as one contiguous
/// stream instead of NR columns out of every row of W, whose power-of-two row length (512, 1,024 floats) also maps the
/// columns of a panel onto a fraction of the cache sets. Prepacking is what ONNX Runtime (MLAS) and oneDNN do at load time.
/// Layout: for each K block of <see cref="KC"/> rows (the last may be shorter), the ⌈N/NR⌉ panels of that block one after
/// another, each kc×NR row-major with zero columns past N. The copy never follows later changes to W: its owner makes a
/// new one when the weights change (<see cref="Evaluation.InferenceWorkspaces.WeightsChanged"/>).
/// </summary>
internal sealed unsafe class PackedWeights
{
    readonly float[] _data; // pinned, with 16 floats of slack for 64-byte alignment

    public PackedWeights(int rows, int cols, int nr, int kc)
    {
        (Rows, Cols, NR, KC) = (rows, cols, nr, kc);
        PaddedCols = (cols + nr - 1) / nr * nr;
        _data = GC.AllocateUninitializedArray<float>(checked(rows * PaddedCols + 16), pinned: true);
    }

    /// <summary>K and N of the packed W.</summary>
    public int Rows { get; }
    public int Cols { get; }

    /// <summary>The panel width and K block of the layout: a GEMM uses the pack only if its own block sizes match.</summary>
    public int NR { get; }
    public int KC { get; }

    /// <summary>N rounded up to whole panels.</summary>
    public int PaddedCols { get; }

    /// <summary>The first float, 64-byte aligned.</summary>
    public float* Data => (float*)(((nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _data[0]) + 63) & ~(nint)63);

    /// <summary>The panel holding columns [col, col + NR) of the K block starting at row <paramref name="blockRow"/> (col a multiple of NR).</summary>
    public float* Panel(int blockRow, int col) => Data + (long)blockRow * PaddedCols + (long)col * Math.Min(KC, Rows - blockRow);
}
