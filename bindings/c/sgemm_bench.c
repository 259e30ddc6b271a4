/*
 * engine_sgemm through the C ABI: GFLOP/s on squares, median of 5 rounds of >= 0.2 s each, to compare with
 * the in-process figure of `engine bench --gemm 256x256x256,... --threads T --backend simd`.
 * Usage: out/native/sgemm_bench [threads]   (built by bindings/c/run-tests.sh)
 */
#define _POSIX_C_SOURCE 199309L
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    const int sizes[] = {256, 512, 1024, 2048};
    printf("engine %s, engine_sgemm via the C ABI, %d thread(s)\n", engine_version(), threads);
    printf("%6s %10s\n", "n", "GFLOP/s");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        float *a = malloc((size_t)n * n * 4), *b = malloc((size_t)n * n * 4), *c = malloc((size_t)n * n * 4);
        for (long i = 0; i < (long)n * n; i++) { a[i] = (float)(i % 7) - 3; b[i] = (float)(i % 5) - 2; }
        double flops = 2.0 * n * n * n;
        for (int w = 0; w < 3; w++)
            if (engine_sgemm(0, 0, n, n, n, a, n, b, n, c, n, 0, threads) != ENGINE_OK) {
                fprintf(stderr, "engine_sgemm failed: %s\n", engine_last_error());
                return 1;
            }
        double t0 = now();
        engine_sgemm(0, 0, n, n, n, a, n, b, n, c, n, 0, threads);
        double single = now() - t0;
        int reps = single > 0.2 ? 1 : (int)(0.2 / single) + 1;
        double rounds[5];
        for (int r = 0; r < 5; r++) {
            t0 = now();
            for (int i = 0; i < reps; i++) engine_sgemm(0, 0, n, n, n, a, n, b, n, c, n, 0, threads);
            rounds[r] = (now() - t0) / reps;
        }
        qsort(rounds, 5, sizeof rounds[0], cmp);
        printf("%6d %10.1f\n", n, flops / rounds[2] / 1e9);
        free(a); free(b); free(c);
    }
    return 0;
}
