// gemm_peers: times row-major SGEMM C = op(A)·op(B) through oneDNN's dnnl_sgemm or OpenBLAS's
// cblas_sgemm, with the same shape syntax and JSON as `engine bench --gemm`.
//
//   gemm_peers --gemm 1024x1024x1024,784x128x32TN --threads 2 --lib dnnl|openblas [--json] [--check]
//
// Shapes are MxNxK: op(A) is MxK, op(B) is KxN, C is MxN, all row-major. A suffix sets the transposes as
// the engine names them: TN (or T) = A stored KxM and used transposed, NT = B stored NxK, TT = both.
// The library is loaded with dlopen, so only the one being timed is in the process (no idle OpenBLAS
// thread pool while oneDNN runs, and the reverse). Each shape: warm-up calls, then samples of a batch of
// calls (each sample >= --sample-ms) until --seconds have passed and at least --min-reps samples exist;
// the median sample's per-call time gives GFLOP/s = 2·M·N·K / t. --check compares op(A)·op(B) with a
// naive double-precision loop (every element for small shapes, 4096 sampled elements for large ones).
//
// Build: bench/peers/build.sh (gcc -O2 -std=c11 -fopenmp ... -ldl). Needs libdnnl-dev and/or libopenblas-dev.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <oneapi/dnnl/dnnl.h>
#include <cblas.h>

typedef struct {
    long m, n, k;
    int ta, tb; // 1 = transposed
} shape_t;

// Function pointers, typed from the libraries' own headers.
static __typeof__(dnnl_sgemm) *p_dnnl_sgemm;
static __typeof__(dnnl_version) *p_dnnl_version;
static __typeof__(dnnl_get_effective_cpu_isa) *p_dnnl_isa;
static __typeof__(cblas_sgemm) *p_cblas_sgemm;
static __typeof__(openblas_set_num_threads) *p_ob_set_threads;
static __typeof__(openblas_get_num_threads) *p_ob_get_threads;
static __typeof__(openblas_get_corename) *p_ob_corename;
static __typeof__(openblas_get_config) *p_ob_config;
static __typeof__(openblas_get_parallel) *p_ob_parallel;

enum { LIB_DNNL, LIB_OPENBLAS };
static int lib = -1;

static void die(const char *fmt, const char *arg) {
    fputs("gemm_peers: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static void *need(void *handle, const char *libname, const char *sym) {
    void *p = dlsym(handle, sym);
    if (!p) {
        fprintf(stderr, "gemm_peers: %s has no symbol %s\n", libname, sym);
        exit(3);
    }
    return p;
}

static void load(const char *path) {
    const char *def = lib == LIB_DNNL ? "libdnnl.so.2" : "libopenblas.so.0";
    const char *name = path ? path : def;
    void *h = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        fprintf(stderr, "gemm_peers: cannot load %s (%s); install %s (bench/peers/build.sh does it as root)\n", name,
                dlerror(), lib == LIB_DNNL ? "libdnnl-dev" : "libopenblas-dev");
        exit(3);
    }
    if (lib == LIB_DNNL) {
        p_dnnl_sgemm = need(h, name, "dnnl_sgemm");
        p_dnnl_version = need(h, name, "dnnl_version");
        p_dnnl_isa = need(h, name, "dnnl_get_effective_cpu_isa");
    } else {
        p_cblas_sgemm = need(h, name, "cblas_sgemm");
        p_ob_set_threads = need(h, name, "openblas_set_num_threads");
        p_ob_get_threads = need(h, name, "openblas_get_num_threads");
        p_ob_corename = need(h, name, "openblas_get_corename");
        p_ob_config = need(h, name, "openblas_get_config");
        p_ob_parallel = need(h, name, "openblas_get_parallel");
    }
}

static void set_threads(int t) {
    if (lib == LIB_DNNL) {
        // Debian builds oneDNN with DNNL_CPU_RUNTIME=OMP (libgomp): its thread count is OpenMP's.
        omp_set_num_threads(t);
    } else {
        p_ob_set_threads(t);
    }
}

// Row-major leading dimensions: A is MxK (lda K) or, transposed, stored KxM (lda M); B is KxN (ldb N) or
// stored NxK (ldb K); C is MxN (ldc N).
static void sgemm(const shape_t *s, const float *a, const float *b, float *c) {
    long lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n, ldc = s->n;
    if (lib == LIB_DNNL) {
        dnnl_status_t st = p_dnnl_sgemm(s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->m, s->n, s->k, 1.0f, a, lda, b,
                                        ldb, 0.0f, c, ldc);
        if (st != dnnl_success) {
            fprintf(stderr, "gemm_peers: dnnl_sgemm failed with status %d\n", (int)st);
            exit(4);
        }
    } else {
        p_cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                      (int)s->m, (int)s->n, (int)s->k, 1.0f, a, (int)lda, b, (int)ldb, 0.0f, c, (int)ldc);
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float next_uniform(void) { // xorshift64*, [-0.5, 0.5) like the engine's bench data
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * 2685821657736338717ull;
    return (float)((r >> 40) * (1.0 / 16777216.0)) - 0.5f;
}

static float *alloc_floats(long count) {
    size_t bytes = ((size_t)count * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p) die("out of memory (%s)", "aligned_alloc");
    return p;
}

// Element (i, j) of op(A)·op(B) in double, with sum |a|·|b| for the error bound.
static double naive(const shape_t *s, const float *a, const float *b, long i, long j, double *abs_sum) {
    double acc = 0, mag = 0;
    for (long p = 0; p < s->k; p++) {
        double x = s->ta ? a[p * s->m + i] : a[i * s->k + p]; // op(A)[i][p]
        double y = s->tb ? b[j * s->k + p] : b[p * s->n + j]; // op(B)[p][j]
        acc += x * y;
        mag += fabs(x * y);
    }
    *abs_sum = mag;
    return acc;
}

static int check(const shape_t *s, const char *label) {
    long sa = s->m * s->k, sb = s->k * s->n, sc = s->m * s->n;
    float *a = alloc_floats(sa), *b = alloc_floats(sb), *c = alloc_floats(sc);
    for (long i = 0; i < sa; i++) a[i] = next_uniform();
    for (long i = 0; i < sb; i++) b[i] = next_uniform();
    for (long i = 0; i < sc; i++) c[i] = 12345.0f; // beta = 0 must overwrite every element
    sgemm(s, a, b, c);
    int full = (double)s->m * s->n * s->k <= 64.0 * 1024 * 1024;
    long count = full ? sc : 4096, bad = 0;
    double worst = 0;
    for (long t = 0; t < count; t++) {
        long i, j;
        if (full) {
            i = t / s->n;
            j = t % s->n;
        } else {
            i = (long)((next_uniform() + 0.5f) * s->m);
            j = (long)((next_uniform() + 0.5f) * s->n);
            if (i >= s->m) i = s->m - 1;
            if (j >= s->n) j = s->n - 1;
        }
        double mag, ref = naive(s, a, b, i, j, &mag);
        double err = fabs((double)c[i * s->n + j] - ref);
        double tol = 2.0 * s->k * 1.1920929e-07 * mag + 1e-30; // generous fp32 bound; a wrong op() is O(1)
        if (!(err <= tol)) {
            if (bad < 5)
                fprintf(stderr, "gemm_peers: check %s: C[%ld][%ld] = %.7g, expected %.7g (tolerance %.3g)\n", label, i,
                        j, c[i * s->n + j], ref, tol);
            bad++;
        }
        if (mag > 0 && err / mag > worst) worst = err / mag;
    }
    fprintf(stderr, "gemm_peers: check %s %s: %s (%ld wrong of %ld elements checked, %s; worst |error|/sum|a*b| %.2e)\n",
            lib == LIB_DNNL ? "dnnl" : "openblas", label, bad ? "FAILED" : "ok", bad, count,
            full ? "all of C" : "sampled", worst);
    free(a);
    free(b);
    free(c);
    return bad == 0;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

// Median seconds of one call.
static double measure(const shape_t *s, double seconds, int min_reps, double sample_ms) {
    long sa = s->m * s->k, sb = s->k * s->n, sc = s->m * s->n;
    float *a = alloc_floats(sa), *b = alloc_floats(sb), *c = alloc_floats(sc);
    for (long i = 0; i < sa; i++) a[i] = next_uniform();
    for (long i = 0; i < sb; i++) b[i] = next_uniform();
    memset(c, 0, (size_t)sc * sizeof(float));

    // Warm up (thread pool start, JIT kernels, page faults) and estimate one call.
    sgemm(s, a, b, c);
    sgemm(s, a, b, c);
    double t0 = now();
    sgemm(s, a, b, c);
    double single = now() - t0;
    if (single < 1e-7) single = 1e-7;
    long calls = (long)(sample_ms * 1e-3 / single);
    if (calls < 1) calls = 1;
    // A little more warm-up: ~20 ms or three samples' worth, whichever is less.
    long warm = (long)(0.02 / single);
    if (warm > 3 * calls) warm = 3 * calls;
    for (long i = 0; i < warm; i++) sgemm(s, a, b, c);

    int cap = 1024, n = 0;
    double *samples = malloc(sizeof(double) * cap);
    double start = now();
    while (n < min_reps || (now() - start < seconds && n < 100000)) {
        double ts = now();
        for (long i = 0; i < calls; i++) sgemm(s, a, b, c);
        double per_call = (now() - ts) / calls;
        if (n == cap) {
            cap *= 2;
            samples = realloc(samples, sizeof(double) * cap);
        }
        samples[n++] = per_call;
    }
    qsort(samples, n, sizeof(double), cmp_double);
    double median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
    free(samples);
    free(a);
    free(b);
    free(c);
    return median;
}

static int parse_shapes(const char *text, shape_t *out, char labels[][4], int max) {
    char *copy = strdup(text), *save = NULL;
    int count = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        if (!*tok) continue;
        if (count == max) die("too many shapes (at most %s)", "256");
        char up[64];
        size_t len = strlen(tok);
        if (len >= sizeof up) die("shape '%s' is too long", tok);
        for (size_t i = 0; i <= len; i++) up[i] = (tok[i] >= 'a' && tok[i] <= 'z') ? tok[i] - 32 : tok[i];
        while (len && up[len - 1] == ' ') up[--len] = 0;
        int ta = 0, tb = 0;
        // Same suffixes as `engine bench`: TT, TN, NT, or T alone (= TN), after a digit.
        const char *sfx[] = {"TT", "TN", "NT", "T"};
        for (int q = 0; q < 4; q++) {
            size_t sl = strlen(sfx[q]);
            if (len > sl && strcmp(up + len - sl, sfx[q]) == 0 && up[len - sl - 1] >= '0' && up[len - sl - 1] <= '9') {
                ta = sfx[q][0] == 'T';
                tb = sl == 2 && sfx[q][1] == 'T';
                up[len - sl] = 0;
                break;
            }
        }
        long v[3];
        char *p = up;
        for (int d = 0; d < 3; d++) {
            char *end;
            errno = 0;
            if (*p < '0' || *p > '9') die("--gemm: '%s' is not a shape MxNxK (e.g. 1024x1024x1024, 784x128x32TN)", tok);
            v[d] = strtol(p, &end, 10);
            if (errno || v[d] < 1 || v[d] > 16384) die("--gemm: '%s' has a size outside 1..16384", tok);
            if (d < 2 && *end != 'X') die("--gemm: '%s' is not a shape MxNxK (e.g. 1024x1024x1024, 784x128x32TN)", tok);
            if (d == 2 && *end) die("--gemm: '%s' is not a shape MxNxK (e.g. 1024x1024x1024, 784x128x32TN)", tok);
            p = end + 1;
        }
        out[count] = (shape_t){v[0], v[1], v[2], ta, tb};
        snprintf(labels[count], 4, "%s%s", ta ? "T" : "N", tb ? "T" : "N");
        count++;
    }
    free(copy);
    return count;
}

static const char *isa_name(int isa) {
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

static void print_info(int threads) {
    if (lib == LIB_DNNL) {
        const dnnl_version_t *v = p_dnnl_version();
        const char *rt = v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP"
                         : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB"
                         : v->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential"
                         : v->cpu_runtime == DNNL_RUNTIME_THREADPOOL ? "threadpool"
                                                                     : "other";
        printf("oneDNN %d.%d.%d (hash %s), CPU runtime %s, effective ISA %s, omp_get_max_threads %d (set to %d)\n",
               v->major, v->minor, v->patch, v->hash, rt, isa_name((int)p_dnnl_isa()), omp_get_max_threads(), threads);
    } else {
        int par = p_ob_parallel();
        printf("OpenBLAS %s, core %s, threading %s, openblas_get_num_threads %d (set to %d), OPENBLAS_CORETYPE=%s\n",
               p_ob_config(), p_ob_corename(), par == 0 ? "sequential" : par == 1 ? "pthreads" : "OpenMP",
               p_ob_get_threads(), threads, getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "(unset)");
    }
}

static void usage(FILE *f) {
    fputs("usage: gemm_peers --lib dnnl|openblas [--gemm SHAPES] [--threads T] [--json] [--check|--check-only] [--info]\n"
          "                  [--seconds S] [--min-reps N] [--sample-ms MS] [--lib-path PATH]\n"
          "  SHAPES   MxNxK[,...] (op(A) MxK, op(B) KxN, row-major); suffix TN (or T), NT, TT sets the transposes\n"
          "  --seconds  time per shape after warm-up (default 0.3); --min-reps  at least this many samples (5)\n"
          "  --sample-ms  length of one sample, a batch of calls (default 2)\n"
          "  --check  compare each shape with a naive double loop first (exit 1 on a mismatch); --check-only: then stop\n"
          "  --info   print the library's version, threading and kernel on one line, then continue\n",
          f);
}

int main(int argc, char **argv) {
    const char *gemm = "256x256x256,1024x1024x1024,32x128x784,128x512x784,784x128x32TN,32x784x128NT";
    const char *lib_path = NULL;
    int threads = 1, json = 0, do_check = 0, check_only = 0, info = 0, min_reps = 5;
    double seconds = 0.3, sample_ms = 2.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDVAL()                                                                                                     \
    do {                                                                                                              \
        if (!val) die("%s needs a value", a);                                                                         \
        i++;                                                                                                          \
    } while (0)
        if (!strcmp(a, "--gemm")) { NEEDVAL(); gemm = val; }
        else if (!strcmp(a, "--threads")) { NEEDVAL(); threads = atoi(val); if (threads < 1) die("--threads must be at least 1, got %s", val); }
        else if (!strcmp(a, "--lib")) {
            NEEDVAL();
            if (!strcmp(val, "dnnl") || !strcmp(val, "onednn")) lib = LIB_DNNL;
            else if (!strcmp(val, "openblas")) lib = LIB_OPENBLAS;
            else die("--lib must be dnnl or openblas, got '%s'", val);
        }
        else if (!strcmp(a, "--lib-path")) { NEEDVAL(); lib_path = val; }
        else if (!strcmp(a, "--seconds")) { NEEDVAL(); seconds = atof(val); }
        else if (!strcmp(a, "--min-reps")) { NEEDVAL(); min_reps = atoi(val); if (min_reps < 1) min_reps = 1; }
        else if (!strcmp(a, "--sample-ms")) { NEEDVAL(); sample_ms = atof(val); }
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--check")) do_check = 1;
        else if (!strcmp(a, "--check-only")) do_check = check_only = 1;
        else if (!strcmp(a, "--info")) info = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else { usage(stderr); die("unknown argument '%s'", a); }
    }
    if (lib < 0) { usage(stderr); die("%s", "--lib dnnl|openblas is required"); }

    static shape_t shapes[256];
    static char labels[256][4];
    int count = parse_shapes(gemm, shapes, labels, 256);
    if (!count) die("--gemm: no shapes in '%s'", gemm);

    load(lib_path);
    set_threads(threads);
    if (info) {
        if (json) { // keep stdout pure JSON: the info line goes to stderr
            fflush(stdout);
            int saved = dup(1);
            dup2(2, 1);
            print_info(threads);
            fflush(stdout);
            dup2(saved, 1);
            close(saved);
        } else {
            print_info(threads);
        }
    }

    int failed = 0;
    if (do_check)
        for (int i = 0; i < count; i++) {
            char label[96];
            snprintf(label, sizeof label, "%ldx%ldx%ld%.3s", shapes[i].m, shapes[i].n, shapes[i].k, labels[i]);
            failed += !check(&shapes[i], label);
        }
    if (failed) {
        fprintf(stderr, "gemm_peers: %d shape(s) failed the check\n", failed);
        return 1;
    }
    if (check_only) return 0;

    const char *libname = lib == LIB_DNNL ? "dnnl" : "openblas";
    if (json) printf("[\n");
    else printf("shape (MxNxK, op)        lib        threads   GFLOP/s\n");
    for (int i = 0; i < count; i++) {
        const shape_t *s = &shapes[i];
        double t = measure(s, seconds, min_reps, sample_ms);
        double gflops = 2.0 * s->m * s->n * s->k / t / 1e9;
        if (json)
            printf("  { \"m\": %ld, \"n\": %ld, \"k\": %ld, \"trans\": \"%s\", \"threads\": %d, \"lib\": \"%s\", "
                   "\"gflops\": %.2f }%s\n",
                   s->m, s->n, s->k, labels[i], threads, libname, gflops, i + 1 < count ? "," : "");
        else {
            char label[96];
            snprintf(label, sizeof label, "%ldx%ldx%ld %.3s", s->m, s->n, s->k, labels[i]);
            printf("%-24s %-10s %7d %9.1f\n", label, libname, threads, gflops);
        }
        fflush(stdout);
    }
    if (json) printf("]\n");
    return 0;
}
