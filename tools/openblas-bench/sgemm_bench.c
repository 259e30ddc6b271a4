// OpenBLAS SGEMM on the shapes the engine benchmarks, for a same-machine comparison.
// Build and run (Debian: apt-get install libopenblas-dev):
//   gcc -O2 -o /tmp/sgemm_bench tools/openblas-bench/sgemm_bench.c -lopenblas
//   OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX /tmp/sgemm_bench
// Prints one line per shape: M N K transA transB threads median-GFLOP/s (median of 7 rounds of >= 50 ms).
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(void) {
    struct { int m, n, k; int ta, tb; } shapes[] = {
        {256, 256, 256, 0, 0}, {1024, 1024, 1024, 0, 0}, {2048, 2048, 2048, 0, 0},
        {32, 128, 784, 0, 0}, {64, 128, 784, 0, 0}, {128, 512, 784, 0, 0}, {256, 1024, 784, 0, 0},
        {784, 128, 32, 1, 0}, {784, 512, 128, 1, 0}, {32, 784, 128, 0, 1}, {128, 784, 512, 0, 1},
    };
    const char *env = getenv("OPENBLAS_NUM_THREADS");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
        float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
        for (int i = 0; i < m * k; i++) a[i] = (float)rand() / RAND_MAX - 0.5f;
        for (int i = 0; i < k * n; i++) b[i] = (float)rand() / RAND_MAX - 0.5f;
        CBLAS_TRANSPOSE ta = shapes[s].ta ? CblasTrans : CblasNoTrans, tb = shapes[s].tb ? CblasTrans : CblasNoTrans;
        int lda = shapes[s].ta ? m : k, ldb = shapes[s].tb ? k : n;
        for (int w = 0; w < 3; w++) cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
        double t0 = now(); cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
        double single = now() - t0; if (single < 1e-7) single = 1e-7;
        int reps = (int)(0.05 / single); if (reps < 1) reps = 1;
        double rounds[7];
        for (int r = 0; r < 7; r++) {
            double start = now();
            for (int i = 0; i < reps; i++) cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
            rounds[r] = (now() - start) / reps;
        }
        qsort(rounds, 7, sizeof(double), cmp);
        printf("%d %d %d %c%c threads=%s %.1f GFLOP/s\n", m, n, k, shapes[s].ta ? 'T' : 'N', shapes[s].tb ? 'T' : 'N',
               env ? env : "default", 2.0 * m * n * k / rounds[3] / 1e9);
        free(a); free(b); free(c);
    }
    return 0;
}
