/*
 * libengine.so (SONAME libengine.so.0): the dispatcher in front of the two NativeAOT builds of the engine.
 *
 * Why: NativeAOT compiles for one instruction-set baseline and folds Avx512F.IsSupported / Vector512 checks that lie
 * above it to false at compile time. A single x86-64-v3 build therefore runs on every AVX2 CPU but never uses the
 * AVX-512 kernels; an x86-64-v4 build uses them but aborts on CPUs without AVX-512. So publish builds both,
 *   libengine-x86-64-v3.so   (AVX2 + FMA baseline)     libengine-x86-64-v4.so   (AVX-512 F/BW/CD/DQ/VL baseline)
 * and this small C library, on the first call, asks the CPU (cpuid, and the OS's saved vector state) which one it
 * can run, loads it from its own directory and forwards every engine.h function to it. Every path computes the same
 * bits (the engine's numerics contract), so the choice only changes speed.
 *
 * ENGINE_NATIVE_VARIANT=x86-64-v3 (or x86-64-v4) forces a build, e.g. to compare them on one machine; a forced v4
 * on a CPU without AVX-512 is refused with an error instead of crashing. A CPU below x86-64-v3 gets a clear error
 * from every call (status ENGINE_ERROR_INTERNAL, message in engine_last_error), never an abort.
 */
#define _GNU_SOURCE
#include "engine.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* return type, name, parameters, arguments, value returned when no build could be loaded */
#define ENGINE_FUNCTIONS(X)                                                                                            \
    X(const char *, engine_version, (void), (), "")                                                                    \
    X(const char *, engine_instruction_set, (void), (), "")                                                            \
    X(int32_t, engine_create, (const char *spec, float d, uint64_t seed, const char *b, int32_t t, engine_model *m),    \
      (spec, d, seed, b, t, m), ENGINE_ERROR_INTERNAL)                                                                 \
    X(int32_t, engine_load, (const char *p, const char *b, int32_t t, engine_model *m), (p, b, t, m),                  \
      ENGINE_ERROR_INTERNAL)                                                                                           \
    X(int32_t, engine_save, (engine_model m, const char *p), (m, p), ENGINE_ERROR_INTERNAL)                            \
    X(int32_t, engine_shape, (engine_model m, int32_t *i, int32_t *c), (m, i, c), ENGINE_ERROR_INTERNAL)               \
    X(int32_t, engine_train, (engine_model m, const float *x, const int32_t *y, int64_t r, int32_t c,                  \
                              const engine_train_options *o, double *l), (m, x, y, r, c, o, l), ENGINE_ERROR_INTERNAL) \
    X(int32_t, engine_train_ex, (engine_model m, const float *x, const int32_t *y, int64_t r, int32_t c,               \
                                 const engine_train_options *o, const engine_optimizer_options *p, double *l),         \
      (m, x, y, r, c, o, p, l), ENGINE_ERROR_INTERNAL)                                                                 \
    X(int32_t, engine_predict, (engine_model m, const float *x, int64_t r, int32_t c, float *p, int64_t n),            \
      (m, x, r, c, p, n), ENGINE_ERROR_INTERNAL)                                                                       \
    X(int32_t, engine_evaluate, (engine_model m, const float *x, const int32_t *y, int64_t r, int32_t c, double *a,    \
                                 double *se, double *sp, int32_t *cf, int32_t k),                                      \
      (m, x, y, r, c, a, se, sp, cf, k), ENGINE_ERROR_INTERNAL)                                                        \
    X(int32_t, engine_sgemm, (int32_t ta, int32_t tb, int32_t m, int32_t n, int32_t k, const float *a, int32_t lda,    \
                              const float *b, int32_t ldb, float *c, int32_t ldc, int32_t acc, int32_t t),             \
      (ta, tb, m, n, k, a, lda, b, ldb, c, ldc, acc, t), ENGINE_ERROR_INTERNAL)                                        \
    X(int32_t, engine_predict_layout, (engine_model m, const float *x, int64_t r, int32_t c, int32_t lo, int64_t ld,   \
                                       float *p, int64_t n), (m, x, r, c, lo, ld, p, n), ENGINE_ERROR_INTERNAL)        \
    X(int32_t, engine_train_layout, (engine_model m, const float *x, int32_t lo, int64_t ld, const int32_t *y,         \
                                     int64_t r, int32_t c, const engine_train_options *o,                              \
                                     const engine_optimizer_options *p, double *l),                                    \
      (m, x, lo, ld, y, r, c, o, p, l), ENGINE_ERROR_INTERNAL)                                                         \
    X(int32_t, engine_save_buffer, (engine_model m, void *b, size_t cap, size_t *n), (m, b, cap, n),                   \
      ENGINE_ERROR_INTERNAL)                                                                                           \
    X(int32_t, engine_load_buffer, (const void *d, size_t n, const char *b, int32_t t, engine_model *m),               \
      (d, n, b, t, m), ENGINE_ERROR_INTERNAL)                                                                          \
    X(int32_t, engine_export_onnx, (engine_model m, const char *p), (m, p), ENGINE_ERROR_INTERNAL)                     \
    X(int32_t, engine_import_onnx, (const char *p, const char *b, int32_t t, engine_model *m), (p, b, t, m),            \
      ENGINE_ERROR_INTERNAL)                                                                                           \
    X(int32_t, engine_import_safetensors, (const char *p, const char *a, float d, const char *b, int32_t t,          \
                                           engine_model *m), (p, a, d, b, t, m), ENGINE_ERROR_INTERNAL)               \
    X(int32_t, engine_export_safetensors, (engine_model m, const char *p), (m, p), ENGINE_ERROR_INTERNAL)              \
    X(int32_t, engine_spec, (engine_model m, char *b, size_t cap, size_t *n), (m, b, cap, n), ENGINE_ERROR_INTERNAL)  \
    X(int32_t, engine_layer_count, (engine_model m, int32_t *n), (m, n), ENGINE_ERROR_INTERNAL)                        \
    X(int32_t, engine_layer_shape, (engine_model m, int32_t l, int32_t *i, int32_t *o), (m, l, i, o),                  \
      ENGINE_ERROR_INTERNAL)                                                                                           \
    X(int32_t, engine_get_weights, (engine_model m, int32_t l, float *w, int64_t nw, float *b, int64_t nb),            \
      (m, l, w, nw, b, nb), ENGINE_ERROR_INTERNAL)                                                                     \
    X(int32_t, engine_set_weights, (engine_model m, int32_t l, const float *w, int64_t nw, const float *b,             \
                                    int64_t nb), (m, l, w, nw, b, nb), ENGINE_ERROR_INTERNAL)                          \
    X(int32_t, engine_train_step, (engine_model m, const float *x, const int32_t *y, int64_t r, int32_t c,             \
                                   const engine_step_options *o, double *l), (m, x, y, r, c, o, l),                    \
      ENGINE_ERROR_INTERNAL)

static struct {
#define FIELD(ret, name, params, args, fail) ret(*name) params;
    ENGINE_FUNCTIONS(FIELD)
#undef FIELD
    const char *(*engine_last_error)(void);
    void (*engine_free)(engine_model);
} target;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[8192];

static int cpu_has_v4(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

static int cpu_has_v3(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
}

static void load(void) {
    __builtin_cpu_init();
    const char *variant = getenv("ENGINE_NATIVE_VARIANT");
    if (variant && *variant) {
        if (strcmp(variant, "x86-64-v3") != 0 && strcmp(variant, "x86-64-v4") != 0) {
            snprintf(load_error, sizeof load_error, "ENGINE_NATIVE_VARIANT='%s' is not x86-64-v3 or x86-64-v4", variant);
            return;
        }
    } else {
        variant = cpu_has_v4() ? "x86-64-v4" : "x86-64-v3";
    }
    if (!cpu_has_v3() || (strcmp(variant, "x86-64-v4") == 0 && !cpu_has_v4())) {
        snprintf(load_error, sizeof load_error, "libengine needs an x86-64 CPU with %s, which this one lacks",
                 strcmp(variant, "x86-64-v4") == 0 ? "AVX-512 F/BW/CD/DQ/VL (x86-64-v4)" : "AVX2, FMA and BMI2 (x86-64-v3)");
        return;
    }
    /* The builds sit beside this library (out/native, the wheel's package directory, the tarball's lib/). */
    Dl_info self;
    char path[4096];
    if (!dladdr((void *)&load, &self) || !self.dli_fname) {
        snprintf(load_error, sizeof load_error, "libengine: cannot find its own path");
        return;
    }
    const char *slash = strrchr(self.dli_fname, '/');
    int dir = slash ? (int)(slash - self.dli_fname + 1) : 0;
    snprintf(path, sizeof path, "%.*slibengine-%s.so", dir, self.dli_fname, variant);
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_error, sizeof load_error, "libengine: cannot load %s: %s", path, dlerror());
        return;
    }
    int missing = 0;
#define RESOLVE(ret, name, params, args, fail) missing |= !(*(void **)&target.name = dlsym(lib, #name));
    ENGINE_FUNCTIONS(RESOLVE)
    RESOLVE(_, engine_last_error, _, _, _)
    RESOLVE(_, engine_free, _, _, _)
#undef RESOLVE
    if (missing) {
        snprintf(load_error, sizeof load_error, "libengine: %s lacks functions of this engine.h", path);
        memset(&target, 0, sizeof target);
    }
}

#define FORWARD(ret, name, params, args, fail)                                                                         \
    __attribute__((visibility("default"))) ret name params {                                                           \
        pthread_once(&once, load);                                                                                     \
        return target.name ? target.name args : fail;                                                                 \
    }
ENGINE_FUNCTIONS(FORWARD)
#undef FORWARD

__attribute__((visibility("default"))) const char *engine_last_error(void) {
    pthread_once(&once, load);
    return target.engine_last_error ? target.engine_last_error() : load_error;
}

__attribute__((visibility("default"))) void engine_free(engine_model model) {
    pthread_once(&once, load);
    if (target.engine_free) target.engine_free(model);
}
