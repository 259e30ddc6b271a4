/*
 * Tests of the C ABI (engine.h) from C: error handling at the boundary, a training run, save/load,
 * simd vs reference bit-identity, and engine_sgemm against a plain fmaf loop, bit for bit.
 * Build and run: bindings/c/run-tests.sh (after publishing libengine.so to out/native).
 */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0, failures = 0;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        checks++;                                                               \
        if (!(cond)) {                                                          \
            failures++;                                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, " (last error: %s)\n", engine_last_error());        \
        }                                                                       \
    } while (0)

/* xorshift: the test's own data, independent of the engine's generator */
static uint64_t state = 88172645463325252ull;
static float uniform(void) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return (float)((state >> 40) * (1.0 / 16777216.0));
}

enum { ROWS = 600, COLS = 4, CLASSES = 3 };
static float x[ROWS * COLS];
static int32_t y[ROWS];

/* Three separable clusters in 4 dimensions, on a 0..255 scale like image bytes. */
static void make_data(void) {
    for (int i = 0; i < ROWS; i++) {
        int c = i % CLASSES;
        y[i] = c;
        for (int j = 0; j < COLS; j++) x[i * COLS + j] = 255.0f * (0.15f * uniform() + (j == c ? 0.7f : 0.1f));
    }
}

static int epochs_seen = 0;
static void on_epoch(int32_t epoch, double loss, void *user) {
    (void)loss;
    epochs_seen = epoch;
    *(int *)user += 1;
}

static engine_train_options options(int epochs) {
    engine_train_options o = {0};
    o.epochs = epochs; o.batch_size = 16; o.learning_rate = 0.1f; o.l2 = 1e-4f; o.seed = 5; o.shuffle = 1;
    return o;
}

static void test_errors(void) {
    engine_model m = 0;
    CHECK(strlen(engine_version()) > 0, "version is empty");
    CHECK(engine_create("4-8-3 tanh", 255.0f, 1, NULL, 1, NULL) == ENGINE_ERROR_ARGUMENT, "NULL out_model accepted");
    CHECK(strlen(engine_last_error()) > 0, "no message for a NULL out_model");
    CHECK(engine_create(NULL, 255.0f, 1, NULL, 1, &m) == ENGINE_ERROR_ARGUMENT, "NULL spec accepted");
    CHECK(engine_create("4-x-3 tanh", 255.0f, 1, NULL, 1, &m) == ENGINE_ERROR_ARGUMENT, "bad width accepted");
    CHECK(engine_create("4-8-3 softsign", 255.0f, 1, NULL, 1, &m) == ENGINE_ERROR_ARGUMENT, "bad activation accepted");
    CHECK(engine_create("4-8-1 tanh", 255.0f, 1, NULL, 1, &m) == ENGINE_ERROR_ARGUMENT, "one class accepted");
    CHECK(engine_create("4-8-3 tanh", 0.0f, 1, NULL, 1, &m) == ENGINE_ERROR_ARGUMENT, "zero divisor accepted");
    CHECK(engine_create("4-8-3 tanh", 255.0f, 1, "gpu", 1, &m) == ENGINE_ERROR_ARGUMENT, "unknown backend accepted");
    CHECK(engine_create("4-8-3 tanh", 255.0f, 1, NULL, 0, &m) == ENGINE_ERROR_ARGUMENT, "zero threads accepted");
    CHECK(engine_load("/nonexistent/model.bin", NULL, 1, &m) == ENGINE_ERROR_DATA, "missing file not a data error");
    CHECK(engine_save(12345, "/tmp/x.bin") == ENGINE_ERROR_ARGUMENT, "unknown handle accepted");
    engine_free(12345); /* ignored */
    CHECK(engine_create("4-8-3 tanh", 255.0f, 1, NULL, 1, &m) == ENGINE_OK, "create failed");
    CHECK(strlen(engine_last_error()) == 0, "last error not cleared by a successful call");

    engine_train_options o = options(1);
    int32_t bad_labels[ROWS];
    memcpy(bad_labels, y, sizeof y);
    bad_labels[7] = 3;
    CHECK(engine_train(m, x, bad_labels, ROWS, COLS, &o, NULL) == ENGINE_ERROR_DATA, "label 3 of 3 classes accepted");
    bad_labels[7] = -1;
    CHECK(engine_train(m, x, bad_labels, ROWS, COLS, &o, NULL) == ENGINE_ERROR_DATA, "label -1 accepted");
    CHECK(engine_train(m, x, y, ROWS, COLS + 1, &o, NULL) == ENGINE_ERROR_ARGUMENT, "wrong cols accepted");
    CHECK(engine_train(m, NULL, y, ROWS, COLS, &o, NULL) == ENGINE_ERROR_ARGUMENT, "NULL x accepted");
    CHECK(engine_train(m, x, y, 0, COLS, &o, NULL) == ENGINE_ERROR_ARGUMENT, "zero rows accepted");
    CHECK(engine_train(m, x, y, ROWS, COLS, NULL, NULL) == ENGINE_ERROR_ARGUMENT, "NULL options accepted");
    o.batch_size = 0;
    CHECK(engine_train(m, x, y, ROWS, COLS, &o, NULL) == ENGINE_ERROR_ARGUMENT, "batch 0 accepted");

    float p[2 * CLASSES + 1];
    p[2 * CLASSES - 1] = 42.0f;
    CHECK(engine_predict(m, x, 2, COLS, p, 2 * CLASSES - 1) == ENGINE_ERROR_ARGUMENT, "short output buffer accepted");
    CHECK(p[2 * CLASSES - 1] == 42.0f, "short output buffer was written");
    double acc, sens[CLASSES], spec[CLASSES];
    CHECK(engine_evaluate(m, x, y, ROWS, COLS, &acc, sens, spec, NULL, CLASSES - 1) == ENGINE_ERROR_ARGUMENT, "small class_capacity accepted");
    CHECK(engine_save(m, "/nonexistent-dir/model.bin") == ENGINE_ERROR_DATA, "save into a missing directory succeeded");

    engine_free(m);
    CHECK(engine_predict(m, x, 1, COLS, p, CLASSES) == ENGINE_ERROR_ARGUMENT, "freed handle accepted");
    engine_free(m); /* a second free is ignored */
}

static void test_training(void) {
    engine_model simd = 0, reference = 0, loaded = 0;
    CHECK(engine_create("4-8-3 tanh", 255.0f, 9, "simd", 2, &simd) == ENGINE_OK, "create simd");
    CHECK(engine_create("4-8-3 tanh", 255.0f, 9, "reference", 1, &reference) == ENGINE_OK, "create reference");
    int32_t inputs = 0, classes = 0;
    CHECK(engine_shape(simd, &inputs, &classes) == ENGINE_OK && inputs == COLS && classes == CLASSES, "shape %d x %d", inputs, classes);

    int calls = 0;
    engine_train_options o = options(20);
    o.on_epoch = on_epoch;
    o.user = &calls;
    double loss = -1;
    CHECK(engine_train(simd, x, y, ROWS, COLS, &o, &loss) == ENGINE_OK, "train simd");
    CHECK(calls == 20 && epochs_seen == 20, "callback ran %d times, last epoch %d", calls, epochs_seen);
    CHECK(loss > 0 && loss < 0.3, "final mean loss %g", loss);
    o.on_epoch = NULL;
    CHECK(engine_train(reference, x, y, ROWS, COLS, &o, NULL) == ENGINE_OK, "train reference");

    double acc = 0, sens[CLASSES], spec[CLASSES];
    int32_t confusion[CLASSES * CLASSES];
    CHECK(engine_evaluate(simd, x, y, ROWS, COLS, &acc, sens, spec, confusion, CLASSES) == ENGINE_OK, "evaluate");
    CHECK(acc > 0.95, "accuracy %g", acc);
    int total = 0, diagonal = 0;
    for (int i = 0; i < CLASSES * CLASSES; i++) total += confusion[i];
    for (int c = 0; c < CLASSES; c++) {
        diagonal += confusion[c * CLASSES + c];
        CHECK(sens[c] >= 0 && sens[c] <= 1 && spec[c] >= 0 && spec[c] <= 1, "class %d: sensitivity %g specificity %g", c, sens[c], spec[c]);
    }
    CHECK(total == ROWS && fabs((double)diagonal / ROWS - acc) < 1e-12, "confusion matrix does not match accuracy");

    static float p_simd[ROWS * CLASSES], p_reference[ROWS * CLASSES], p_loaded[ROWS * CLASSES];
    CHECK(engine_predict(simd, x, ROWS, COLS, p_simd, ROWS * CLASSES) == ENGINE_OK, "predict simd");
    CHECK(engine_predict(reference, x, ROWS, COLS, p_reference, ROWS * CLASSES) == ENGINE_OK, "predict reference");
    CHECK(memcmp(p_simd, p_reference, sizeof p_simd) == 0, "simd and reference training differ (they must be bit-identical)");
    for (int i = 0; i < ROWS; i++) {
        double s = 0;
        for (int c = 0; c < CLASSES; c++) s += p_simd[i * CLASSES + c];
        if (fabs(s - 1) > 1e-5) { CHECK(0, "row %d probabilities sum to %g", i, s); break; }
    }

    const char *path = "out/native/test-model.bin";
    CHECK(engine_save(simd, path) == ENGINE_OK, "save");
    CHECK(engine_load(path, "simd", 1, &loaded) == ENGINE_OK, "load");
    CHECK(engine_predict(loaded, x, ROWS, COLS, p_loaded, ROWS * CLASSES) == ENGINE_OK, "predict loaded");
    CHECK(memcmp(p_simd, p_loaded, sizeof p_simd) == 0, "a saved and loaded model predicts differently");
    remove(path);
    engine_free(simd);
    engine_free(reference);
    engine_free(loaded);
}

/* C = op(A)·op(B) (+ C), each element fmaf-accumulated over k in order: the engine's contract. */
static void naive_sgemm(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc, int acc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float s = acc ? c[i * ldc + j] : 0.0f;
            for (int p = 0; p < k; p++) {
                float av = ta ? a[p * lda + i] : a[i * lda + p];
                float bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                s = fmaf(av, bv, s);
            }
            c[i * ldc + j] = s;
        }
}

static void test_sgemm(void) {
    const int shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {100, 10, 128}, {64, 129, 300}, {257, 31, 1100}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int acc = 0; acc < 2; acc++)
                    for (int threads = 1; threads <= 2; threads++) {
                        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
                        size_t asz = (size_t)(ta ? k : m) * lda, bsz = (size_t)(tb ? n : k) * ldb, csz = (size_t)m * ldc;
                        float *a = malloc(asz * 4), *b = malloc(bsz * 4), *c1 = malloc(csz * 4), *c2 = malloc(csz * 4);
                        for (size_t i = 0; i < asz; i++) a[i] = uniform() - 0.5f;
                        for (size_t i = 0; i < bsz; i++) b[i] = uniform() - 0.5f;
                        for (size_t i = 0; i < csz; i++) c1[i] = c2[i] = uniform() - 0.5f;
                        naive_sgemm(ta, tb, m, n, k, a, lda, b, ldb, c1, ldc, acc);
                        int rc = engine_sgemm(ta, tb, m, n, k, a, lda, b, ldb, c2, ldc, acc, threads);
                        CHECK(rc == ENGINE_OK && memcmp(c1, c2, csz * 4) == 0,
                              "sgemm %dx%dx%d trans %d%d accumulate %d threads %d differs from the fmaf loop", m, n, k, ta, tb, acc, threads);
                        free(a); free(b); free(c1); free(c2);
                    }
    float a[4] = {1, 2, 3, 4}, c[4] = {0};
    CHECK(engine_sgemm(0, 0, 2, 2, 2, a, 1, a, 2, c, 2, 0, 1) == ENGINE_ERROR_ARGUMENT, "lda smaller than k accepted");
    CHECK(engine_sgemm(0, 0, 2, 2, 2, NULL, 2, a, 2, c, 2, 0, 1) == ENGINE_ERROR_ARGUMENT, "NULL a accepted");
    CHECK(engine_sgemm(0, 0, -1, 2, 2, a, 2, a, 2, c, 2, 0, 1) == ENGINE_ERROR_ARGUMENT, "negative m accepted");
    CHECK(engine_sgemm(0, 0, 2, 2, 2, a, 2, a, 2, c, 2, 0, 0) == ENGINE_ERROR_ARGUMENT, "zero threads accepted");
}

/* engine_train_ex: every rule trains, gives the same bits on simd and reference, NULL is engine_train, bad values are
   argument errors. */
static void test_optimizers(void) {
    const engine_optimizer_options rules[] = {
        {ENGINE_MOMENTUM, 0.9f, 0, 0, 0, ENGINE_STEP, 5, 0.5f, 0},
        {ENGINE_NESTEROV, 0.9f, 0, 0, 0, ENGINE_CONSTANT, 0, 0, 0},
        {ENGINE_ADAM, 0, 0.9f, 0.999f, 1e-8f, ENGINE_COSINE, 0, 0, 0.0001f},
        {ENGINE_ADAMW, 0, 0.9f, 0.999f, 1e-8f, ENGINE_CONSTANT, 0, 0, 0},
    };
    const char *names[] = {"momentum + step", "nesterov", "adam + cosine", "adamw"};
    const float rates[] = {0.05f, 0.05f, 0.01f, 0.01f};
    static float p_simd[ROWS * CLASSES], p_reference[ROWS * CLASSES];
    for (int i = 0; i < 4; i++) {
        engine_model simd = 0, reference = 0;
        CHECK(engine_create("4-8-3 tanh", 255.0f, 9, "simd", 2, &simd) == ENGINE_OK, "create simd");
        CHECK(engine_create("4-8-3 tanh", 255.0f, 9, "reference", 1, &reference) == ENGINE_OK, "create reference");
        engine_train_options o = options(20);
        o.learning_rate = rates[i];
        double loss = -1;
        CHECK(engine_train_ex(simd, x, y, ROWS, COLS, &o, &rules[i], &loss) == ENGINE_OK, "%s: train simd: %s", names[i], engine_last_error());
        CHECK(loss > 0 && loss < 0.5, "%s: final mean loss %g", names[i], loss);
        CHECK(engine_train_ex(reference, x, y, ROWS, COLS, &o, &rules[i], NULL) == ENGINE_OK, "%s: train reference", names[i]);
        CHECK(engine_predict(simd, x, ROWS, COLS, p_simd, ROWS * CLASSES) == ENGINE_OK, "predict simd");
        CHECK(engine_predict(reference, x, ROWS, COLS, p_reference, ROWS * CLASSES) == ENGINE_OK, "predict reference");
        CHECK(memcmp(p_simd, p_reference, sizeof p_simd) == 0, "%s: simd and reference differ (they must be bit-identical)", names[i]);
        engine_free(simd);
        engine_free(reference);
    }

    /* NULL optimizer options: the same bits as engine_train. */
    engine_model a = 0, b = 0;
    engine_create("4-8-3 tanh", 255.0f, 9, "simd", 1, &a);
    engine_create("4-8-3 tanh", 255.0f, 9, "simd", 1, &b);
    engine_train_options o = options(5);
    CHECK(engine_train(a, x, y, ROWS, COLS, &o, NULL) == ENGINE_OK && engine_train_ex(b, x, y, ROWS, COLS, &o, NULL, NULL) == ENGINE_OK, "train sgd");
    engine_predict(a, x, ROWS, COLS, p_simd, ROWS * CLASSES);
    engine_predict(b, x, ROWS, COLS, p_reference, ROWS * CLASSES);
    CHECK(memcmp(p_simd, p_reference, sizeof p_simd) == 0, "engine_train_ex with NULL optimizer differs from engine_train");

    engine_optimizer_options bad = {7, 0, 0, 0, 0, ENGINE_CONSTANT, 0, 0, 0};
    CHECK(engine_train_ex(a, x, y, ROWS, COLS, &o, &bad, NULL) == ENGINE_ERROR_ARGUMENT, "optimizer 7 accepted");
    bad = (engine_optimizer_options){ENGINE_ADAM, 0, 0.9f, 1.0f, 1e-8f, ENGINE_CONSTANT, 0, 0, 0};
    CHECK(engine_train_ex(a, x, y, ROWS, COLS, &o, &bad, NULL) == ENGINE_ERROR_ARGUMENT, "beta2 = 1 accepted");
    bad = (engine_optimizer_options){ENGINE_SGD, 0, 0, 0, 0, ENGINE_STEP, 0, 0.5f, 0};
    CHECK(engine_train_ex(a, x, y, ROWS, COLS, &o, &bad, NULL) == ENGINE_ERROR_ARGUMENT, "step schedule of 0 epochs accepted");
    CHECK(strstr(engine_last_error(), "lr-step") != NULL || strstr(engine_last_error(), "epoch") != NULL, "message: %s", engine_last_error());
    engine_free(a);
    engine_free(b);
}

/* 0.5.0 additions ------------------------------------------------------------------------------------------ */

static void test_version_and_isa(void) {
    CHECK(strncmp(engine_version(), ENGINE_VERSION_STRING, strlen(ENGINE_VERSION_STRING)) == 0,
          "engine_version() %s does not begin with ENGINE_VERSION_STRING %s", engine_version(), ENGINE_VERSION_STRING);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", ENGINE_VERSION_MAJOR, ENGINE_VERSION_MINOR, ENGINE_VERSION_PATCH);
    CHECK(strcmp(expected, ENGINE_VERSION_STRING) == 0, "version macros %s and %s disagree", expected, ENGINE_VERSION_STRING);
    const char *isa = engine_instruction_set();
    CHECK(strcmp(isa, "avx512") == 0 || strcmp(isa, "avx2") == 0 || strcmp(isa, "vector") == 0 || strcmp(isa, "scalar") == 0,
          "instruction set '%s'", isa);
    const char *forced = getenv("ENGINE_ISA");
    if (forced && *forced) CHECK(strcmp(isa, forced) == 0, "ENGINE_ISA=%s but the engine uses %s", forced, isa);
}

static engine_model trained(const char *backend, int epochs) {
    engine_model m = 0;
    CHECK(engine_create("4-8-3 tanh", 255.0f, 9, backend, 1, &m) == ENGINE_OK, "create %s", backend);
    engine_train_options o = options(epochs);
    CHECK(engine_train(m, x, y, ROWS, COLS, &o, NULL) == ENGINE_OK, "train %s", backend);
    return m;
}

static void test_buffers(void) {
    static float p1[ROWS * CLASSES], p2[ROWS * CLASSES];
    engine_model m = trained("simd", 3), loaded = 0;
    size_t size = 0;
    CHECK(engine_save_buffer(m, NULL, 0, &size) == ENGINE_OK && size > 64, "size query gave %zu", size);
    if (size <= 64) { engine_free(m); return; }
    unsigned char *buffer = malloc(size + 1);
    size_t got = 0;
    buffer[size - 2] = 0xAB;
    CHECK(engine_save_buffer(m, buffer, size - 1, &got) == ENGINE_ERROR_ARGUMENT && got == size, "short buffer accepted (size %zu)", got);
    CHECK(buffer[size - 2] == 0xAB, "a short buffer was written");
    CHECK(engine_save_buffer(m, buffer, size, NULL) == ENGINE_ERROR_ARGUMENT, "NULL out_size accepted");
    CHECK(engine_save_buffer(m, buffer, size + 1, &got) == ENGINE_OK && got == size, "save_buffer");
    /* The bytes are the model file: engine_save writes the same. */
    const char *path = "out/native/test-buffer-model.bin";
    CHECK(engine_save(m, path) == ENGINE_OK, "save");
    FILE *f = fopen(path, "rb");
    unsigned char *file = malloc(size + 1);
    size_t file_size = f ? fread(file, 1, size + 1, f) : 0;
    if (f) fclose(f);
    remove(path);
    CHECK(file_size == size && memcmp(file, buffer, size) == 0, "engine_save_buffer and engine_save differ");

    CHECK(engine_load_buffer(buffer, size, "reference", 1, &loaded) == ENGINE_OK, "load_buffer");
    engine_predict(m, x, ROWS, COLS, p1, ROWS * CLASSES);
    CHECK(engine_predict(loaded, x, ROWS, COLS, p2, ROWS * CLASSES) == ENGINE_OK && memcmp(p1, p2, sizeof p1) == 0,
          "a model loaded from bytes predicts differently");
    engine_model bad = 0;
    CHECK(engine_load_buffer(NULL, size, NULL, 1, &bad) == ENGINE_ERROR_ARGUMENT, "NULL data accepted");
    CHECK(engine_load_buffer(buffer, size, NULL, 1, NULL) == ENGINE_ERROR_ARGUMENT, "NULL out_model accepted");
    CHECK(engine_load_buffer(buffer, size - 1, NULL, 1, &bad) == ENGINE_ERROR_DATA, "truncated bytes accepted");
    CHECK(engine_load_buffer(buffer, 0, NULL, 1, &bad) == ENGINE_ERROR_DATA, "zero bytes accepted");
    buffer[size - 20] ^= 1; /* a flipped parameter bit: the checksum catches it */
    CHECK(engine_load_buffer(buffer, size, NULL, 1, &bad) == ENGINE_ERROR_DATA, "corrupted bytes accepted");
    CHECK(strlen(engine_last_error()) > 0, "no message for corrupted bytes");
    CHECK(engine_save_buffer(987654, NULL, 0, &got) == ENGINE_ERROR_ARGUMENT, "unknown handle accepted");
    free(buffer);
    free(file);
    engine_free(m);
    engine_free(loaded);
}

static void test_spec(void) {
    engine_model m = trained("simd", 1), loaded = 0, relu = 0;
    char spec[32];
    size_t size = 0, got = 0;
    CHECK(engine_spec(m, NULL, 0, &size) == ENGINE_OK && size == strlen("4-8-3 tanh") + 1, "spec size query gave %zu", size);
    memset(spec, 'x', sizeof spec);
    CHECK(engine_spec(m, spec, size - 1, &got) == ENGINE_ERROR_ARGUMENT && got == size && spec[0] == 'x', "short spec buffer accepted");
    CHECK(engine_spec(m, spec, sizeof spec, &got) == ENGINE_OK && got == size && strcmp(spec, "4-8-3 tanh") == 0, "spec '%s'", spec);
    CHECK(engine_spec(m, spec, sizeof spec, NULL) == ENGINE_ERROR_ARGUMENT, "NULL out_size accepted");
    CHECK(engine_spec(987654, spec, sizeof spec, &got) == ENGINE_ERROR_ARGUMENT, "unknown handle accepted");
    /* A loaded model knows its architecture too: what R and Python print for it. */
    const char *path = "out/native/test-spec.model";
    CHECK(engine_create("5-7-6-2 relu", 1.0f, 1, NULL, 1, &relu) == ENGINE_OK && engine_save(relu, path) == ENGINE_OK, "save a relu model");
    CHECK(engine_load(path, "reference", 1, &loaded) == ENGINE_OK, "load it");
    remove(path);
    CHECK(engine_spec(loaded, spec, sizeof spec, &got) == ENGINE_OK && strcmp(spec, "5-7-6-2 relu") == 0, "loaded spec '%s'", spec);
    engine_free(m);
    engine_free(relu);
    engine_free(loaded);
}

static void test_safetensors(void) {
    static float p1[ROWS * CLASSES], p2[ROWS * CLASSES];
    engine_model m = trained("simd", 2), back = 0, relu = 0;
    const char *path = "out/native/test-weights.safetensors";
    CHECK(engine_export_safetensors(m, path) == ENGINE_OK, "export safetensors");
    /* The weights with the activation and scaling they came with: the same bits. */
    CHECK(engine_import_safetensors(path, "tanh", 255.0f, "reference", 1, &back) == ENGINE_OK, "import safetensors");
    engine_predict(m, x, ROWS, COLS, p1, ROWS * CLASSES);
    CHECK(engine_predict(back, x, ROWS, COLS, p2, ROWS * CLASSES) == ENGINE_OK && memcmp(p1, p2, sizeof p1) == 0,
          "safetensors out and in predicts other bits");
    char spec[32];
    size_t size = 0;
    CHECK(engine_spec(back, spec, sizeof spec, &size) == ENGINE_OK && strcmp(spec, "4-8-3 tanh") == 0, "imported spec '%s'", spec);
    CHECK(engine_import_safetensors(path, "relu", 255.0f, NULL, 1, &relu) == ENGINE_OK
          && engine_predict(relu, x, ROWS, COLS, p2, ROWS * CLASSES) == ENGINE_OK && memcmp(p1, p2, sizeof p1) != 0,
          "another activation predicts the same");
    engine_model bad = 0;
    CHECK(engine_import_safetensors(path, "softsign", 255.0f, NULL, 1, &bad) == ENGINE_ERROR_ARGUMENT, "unknown activation accepted");
    CHECK(engine_import_safetensors(path, NULL, 255.0f, NULL, 1, &bad) == ENGINE_ERROR_ARGUMENT, "NULL activation accepted");
    CHECK(engine_import_safetensors(path, "tanh", 0.0f, NULL, 1, &bad) == ENGINE_ERROR_ARGUMENT, "zero divisor accepted");
    CHECK(engine_import_safetensors(NULL, "tanh", 1.0f, NULL, 1, &bad) == ENGINE_ERROR_ARGUMENT, "NULL path accepted");
    CHECK(engine_import_safetensors(path, "tanh", 1.0f, NULL, 1, NULL) == ENGINE_ERROR_ARGUMENT, "NULL out_model accepted");
    remove(path);
    CHECK(engine_import_safetensors(path, "tanh", 1.0f, NULL, 1, &bad) == ENGINE_ERROR_DATA, "missing file imported");
    CHECK(engine_import_safetensors("bindings/c/test_engine.c", "tanh", 1.0f, NULL, 1, &bad) == ENGINE_ERROR_DATA,
          "a C file imported as safetensors");
    CHECK(engine_export_safetensors(m, NULL) == ENGINE_ERROR_ARGUMENT, "NULL path accepted");
    CHECK(engine_export_safetensors(m, "/nonexistent-dir/w.safetensors") == ENGINE_ERROR_DATA, "export into a missing directory succeeded");
    engine_free(m);
    engine_free(back);
    engine_free(relu);
}

static void test_onnx(void) {
    engine_model m = trained("simd", 1);
    const char *path = "out/native/test-model.onnx";
    CHECK(engine_export_onnx(m, path) == ENGINE_OK, "export onnx");
    FILE *f = fopen(path, "rb");
    unsigned char head[4096];
    size_t n = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    remove(path);
    /* ModelProto field 1 (ir_version, varint) = 8 comes first; the producer name "engine" appears near the start. */
    int producer = 0;
    for (size_t i = 0; i + 6 <= n; i++) if (memcmp(head + i, "engine", 6) == 0) { producer = 1; break; }
    CHECK(n > 100 && head[0] == 0x08 && head[1] == 8 && producer, "not an ONNX ModelProto (%zu bytes)", n);
    /* And back: the imported model predicts the same bits. */
    CHECK(engine_export_onnx(m, path) == ENGINE_OK, "export onnx again");
    engine_model back = 0;
    CHECK(engine_import_onnx(path, "simd", 1, &back) == ENGINE_OK, "import onnx: %s", engine_last_error());
    float x[4 * 5], p1[5 * 3], p2[5 * 3];
    for (int i = 0; i < 20; i++) x[i] = (float)(i % 7) * 0.3f;
    CHECK(engine_predict(m, x, 5, 4, p1, 15) == ENGINE_OK && engine_predict(back, x, 5, 4, p2, 15) == ENGINE_OK
          && memcmp(p1, p2, sizeof p1) == 0, "imported model predicts other bits");
    engine_free(back);
    CHECK(engine_import_onnx(NULL, NULL, 1, &back) == ENGINE_ERROR_ARGUMENT, "NULL path imported");
    CHECK(engine_import_onnx(path, NULL, 1, NULL) == ENGINE_ERROR_ARGUMENT, "NULL out_model accepted");
    remove(path);
    CHECK(engine_import_onnx(path, NULL, 1, &back) == ENGINE_ERROR_DATA, "missing file imported");
    CHECK(engine_import_onnx("bindings/c/test_engine.c", NULL, 1, &back) == ENGINE_ERROR_DATA, "a C file imported as ONNX");
    CHECK(engine_export_onnx(m, NULL) == ENGINE_ERROR_ARGUMENT, "NULL path accepted");
    CHECK(engine_export_onnx(m, "/nonexistent-dir/m.onnx") == ENGINE_ERROR_DATA, "export into a missing directory succeeded");
    engine_free(m);
}

static void test_weights(void) {
    engine_model m = trained("simd", 2);
    int32_t layers = 0, fan_in = 0, fan_out = 0;
    CHECK(engine_layer_count(m, &layers) == ENGINE_OK && layers == 2, "layer count %d", layers);
    CHECK(engine_layer_shape(m, 0, &fan_in, &fan_out) == ENGINE_OK && fan_in == 4 && fan_out == 8, "layer 0 is %dx%d", fan_in, fan_out);
    CHECK(engine_layer_shape(m, 1, &fan_in, &fan_out) == ENGINE_OK && fan_in == 8 && fan_out == 3, "layer 1 is %dx%d", fan_in, fan_out);
    CHECK(engine_layer_shape(m, 2, &fan_in, &fan_out) == ENGINE_ERROR_ARGUMENT, "layer 2 accepted");
    CHECK(engine_layer_shape(m, -1, &fan_in, &fan_out) == ENGINE_ERROR_ARGUMENT, "layer -1 accepted");
    CHECK(engine_layer_count(m, NULL) == ENGINE_ERROR_ARGUMENT, "NULL out_layers accepted");

    float w1[32], b1[8], w2[24], b2[3];
    CHECK(engine_get_weights(m, 0, w1, 32, b1, 8) == ENGINE_OK && engine_get_weights(m, 1, w2, 24, b2, 3) == ENGINE_OK, "get weights");
    CHECK(engine_get_weights(m, 0, w1, 31, b1, 8) == ENGINE_ERROR_ARGUMENT, "short weight buffer accepted");
    CHECK(engine_get_weights(m, 0, w1, 32, NULL, 8) == ENGINE_ERROR_ARGUMENT, "NULL bias accepted");

    /* The forward pass from the weights, in C: the engine's probabilities must match closely. */
    float p[CLASSES];
    CHECK(engine_predict(m, x, 1, COLS, p, CLASSES) == ENGINE_OK, "predict");
    double h[8], z[CLASSES], zmax = -1e30, sum = 0;
    for (int j = 0; j < 8; j++) {
        double a = b1[j];
        for (int i = 0; i < COLS; i++) a += (x[i] / 255.0) * w1[i * 8 + j];
        h[j] = tanh(a);
    }
    for (int c = 0; c < CLASSES; c++) {
        z[c] = b2[c];
        for (int j = 0; j < 8; j++) z[c] += h[j] * w2[j * CLASSES + c];
        if (z[c] > zmax) zmax = z[c];
    }
    for (int c = 0; c < CLASSES; c++) sum += exp(z[c] - zmax);
    for (int c = 0; c < CLASSES; c++)
        CHECK(fabs(exp(z[c] - zmax) / sum - p[c]) < 1e-5, "class %d: forward pass from the weights %g, engine %g", c, exp(z[c] - zmax) / sum, p[c]);

    /* Weights set into a fresh model reproduce the trained one bit for bit. */
    engine_model fresh = 0;
    engine_create("4-8-3 tanh", 255.0f, 123, NULL, 1, &fresh);
    CHECK(engine_set_weights(fresh, 0, w1, 32, b1, 8) == ENGINE_OK && engine_set_weights(fresh, 1, w2, 24, b2, 3) == ENGINE_OK, "set weights");
    static float pa[ROWS * CLASSES], pb[ROWS * CLASSES];
    engine_predict(m, x, ROWS, COLS, pa, ROWS * CLASSES);
    engine_predict(fresh, x, ROWS, COLS, pb, ROWS * CLASSES);
    CHECK(memcmp(pa, pb, sizeof pa) == 0, "a model given the trained weights predicts differently");
    CHECK(engine_set_weights(fresh, 0, w1, 31, b1, 8) == ENGINE_ERROR_ARGUMENT, "31 of 32 weights accepted");
    CHECK(engine_set_weights(fresh, 1, w2, 24, b2, 4) == ENGINE_ERROR_ARGUMENT, "4 of 3 biases accepted");
    w2[5] = NAN;
    CHECK(engine_set_weights(fresh, 1, w2, 24, b2, 3) == ENGINE_ERROR_ARGUMENT, "a NaN weight accepted");
    engine_predict(fresh, x, ROWS, COLS, pb, ROWS * CLASSES);
    CHECK(memcmp(pa, pb, sizeof pa) == 0, "a refused set_weights changed the model");
    engine_free(m);
    engine_free(fresh);
}

static void test_train_step(void) {
    engine_model a = 0, b = 0;
    engine_create("4-8-3 tanh", 255.0f, 9, "simd", 1, &a);
    engine_create("4-8-3 tanh", 255.0f, 9, "reference", 1, &b);
    engine_step_options o = {0};
    o.struct_size = sizeof o;
    o.optimizer = ENGINE_ADAM; o.learning_rate = 0.01f; o.l2 = 1e-4f; o.beta1 = 0.9f; o.beta2 = 0.999f; o.epsilon = 1e-8f;
    double first = -1, last = -1, loss = -1;
    for (int step = 0; step < 200; step++) {
        int start = (step * 30) % ROWS;
        CHECK(engine_train_step(a, x + start * COLS, y + start, 30, COLS, &o, &loss) == ENGINE_OK, "step %d", step);
        CHECK(engine_train_step(b, x + start * COLS, y + start, 30, COLS, &o, NULL) == ENGINE_OK, "reference step %d", step);
        if (step == 0) first = loss;
        last = loss;
    }
    CHECK(first > 0.5 && last < 0.3 * first, "steps did not learn: loss %g -> %g", first, last);
    static float pa[ROWS * CLASSES], pb[ROWS * CLASSES];
    engine_predict(a, x, ROWS, COLS, pa, ROWS * CLASSES);
    engine_predict(b, x, ROWS, COLS, pb, ROWS * CLASSES);
    CHECK(memcmp(pa, pb, sizeof pa) == 0, "train_step: simd and reference differ");

    engine_step_options bad = o;
    bad.struct_size = 8;
    CHECK(engine_train_step(a, x, y, 30, COLS, &bad, NULL) == ENGINE_ERROR_ARGUMENT, "struct_size 8 accepted");
    CHECK(strstr(engine_last_error(), "struct_size") != NULL, "message: %s", engine_last_error());
    /* A newer caller's struct: unknown trailing fields that are zero are fine, non-zero ones are refused. */
    struct { engine_step_options known; float future; } newer = {o, 0.0f};
    newer.known.struct_size = sizeof newer;
    CHECK(engine_train_step(a, x, y, 30, COLS, &newer.known, NULL) == ENGINE_OK, "a larger struct with zero extra fields refused");
    newer.future = 1.0f;
    CHECK(engine_train_step(a, x, y, 30, COLS, &newer.known, NULL) == ENGINE_ERROR_ARGUMENT, "an unknown non-zero field accepted");
    CHECK(engine_train_step(a, x, y, 30, COLS, NULL, NULL) == ENGINE_ERROR_ARGUMENT, "NULL options accepted");
    bad = o; bad.optimizer = 9;
    CHECK(engine_train_step(a, x, y, 30, COLS, &bad, NULL) == ENGINE_ERROR_ARGUMENT, "optimizer 9 accepted");
    bad = o; bad.learning_rate = -1;
    CHECK(engine_train_step(a, x, y, 30, COLS, &bad, NULL) == ENGINE_ERROR_ARGUMENT, "negative learning rate accepted");
    int32_t labels[2] = {0, 5};
    CHECK(engine_train_step(a, x, labels, 2, COLS, &o, NULL) == ENGINE_ERROR_DATA, "label 5 accepted");
    CHECK(engine_train_step(a, x, y, 0, COLS, &o, NULL) == ENGINE_ERROR_ARGUMENT, "zero rows accepted");
    CHECK(engine_train_step(a, x, y, 30, COLS + 1, &o, NULL) == ENGINE_ERROR_ARGUMENT, "wrong cols accepted");
    engine_free(a);
    engine_free(b);
}

/* Column-major and strided input give the same bits as the row-major matrix they hold. */
static void test_layouts(void) {
    enum { N = 200, LD = COLS + 3, CM_LD = N + 5 };
    static float strided[N * LD], column[COLS * CM_LD];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < COLS; j++) {
            strided[i * LD + j] = x[i * COLS + j];
            column[j * CM_LD + i] = x[i * COLS + j];
        }
    engine_model m = trained("simd", 2);
    static float p_row[N * CLASSES], p_strided[N * CLASSES], p_column[N * CLASSES];
    CHECK(engine_predict(m, x, N, COLS, p_row, N * CLASSES) == ENGINE_OK, "predict");
    CHECK(engine_predict_layout(m, x, N, COLS, ENGINE_ROW_MAJOR, 0, p_strided, N * CLASSES) == ENGINE_OK &&
          memcmp(p_row, p_strided, sizeof p_row) == 0, "row-major ld 0 differs");
    CHECK(engine_predict_layout(m, strided, N, COLS, ENGINE_ROW_MAJOR, LD, p_strided, N * CLASSES) == ENGINE_OK &&
          memcmp(p_row, p_strided, sizeof p_row) == 0, "row stride %d differs", LD);
    CHECK(engine_predict_layout(m, column, N, COLS, ENGINE_COL_MAJOR, CM_LD, p_column, N * CLASSES) == ENGINE_OK &&
          memcmp(p_row, p_column, sizeof p_row) == 0, "column-major differs");
    CHECK(engine_predict_layout(m, column, N, COLS, ENGINE_COL_MAJOR, N - 1, p_column, N * CLASSES) == ENGINE_ERROR_ARGUMENT, "column ld below rows accepted");
    CHECK(engine_predict_layout(m, strided, N, COLS, ENGINE_ROW_MAJOR, COLS - 1, p_column, N * CLASSES) == ENGINE_ERROR_ARGUMENT, "row ld below cols accepted");
    CHECK(engine_predict_layout(m, strided, N, COLS, 2, 0, p_column, N * CLASSES) == ENGINE_ERROR_ARGUMENT, "layout 2 accepted");
    CHECK(engine_predict_layout(m, NULL, N, COLS, ENGINE_COL_MAJOR, 0, p_column, N * CLASSES) == ENGINE_ERROR_ARGUMENT, "NULL x accepted");
    engine_free(m);

    /* Training on each layout: the same bits as row-major training. */
    engine_model r = 0, s = 0, c = 0;
    engine_create("4-8-3 tanh", 255.0f, 9, NULL, 1, &r);
    engine_create("4-8-3 tanh", 255.0f, 9, NULL, 1, &s);
    engine_create("4-8-3 tanh", 255.0f, 9, NULL, 1, &c);
    engine_train_options o = options(3);
    CHECK(engine_train(r, x, y, N, COLS, &o, NULL) == ENGINE_OK, "train row-major");
    CHECK(engine_train_layout(s, strided, ENGINE_ROW_MAJOR, LD, y, N, COLS, &o, NULL, NULL) == ENGINE_OK, "train strided");
    CHECK(engine_train_layout(c, column, ENGINE_COL_MAJOR, CM_LD, y, N, COLS, &o, NULL, NULL) == ENGINE_OK, "train column-major");
    engine_predict(r, x, N, COLS, p_row, N * CLASSES);
    engine_predict(s, x, N, COLS, p_strided, N * CLASSES);
    engine_predict(c, x, N, COLS, p_column, N * CLASSES);
    CHECK(memcmp(p_row, p_strided, sizeof p_row) == 0 && memcmp(p_row, p_column, sizeof p_row) == 0, "training on another layout differs");
    CHECK(engine_train_layout(c, column, ENGINE_COL_MAJOR, CM_LD, y, N, COLS, NULL, NULL, NULL) == ENGINE_ERROR_ARGUMENT, "NULL options accepted");
    engine_free(r);
    engine_free(s);
    engine_free(c);
}

/* FNV-1a of the probabilities after a fixed training run: run-tests.sh compares it across ENGINE_ISA paths and CPUs. */
static void print_digest(void) {
    engine_model m = trained("simd", 5);
    static float p[ROWS * CLASSES];
    engine_predict(m, x, ROWS, COLS, p, ROWS * CLASSES);
    uint64_t hash = 1469598103934665603ull;
    const unsigned char *bytes = (const unsigned char *)p;
    for (size_t i = 0; i < sizeof p; i++) { hash ^= bytes[i]; hash *= 1099511628211ull; }
    printf("digest %016llx (instruction set %s)\n", (unsigned long long)hash, engine_instruction_set());
    engine_free(m);
}

int main(void) {
    make_data();
    test_errors();
    test_training();
    test_optimizers();
    test_sgemm();
    test_version_and_isa();
    test_buffers();
    test_spec();
    test_onnx();
    test_safetensors();
    test_weights();
    test_train_step();
    test_layouts();
    print_digest();
    printf("C ABI tests (engine %s): %d checks, %d failed\n", engine_version(), checks, failures);
    return failures == 0 ? 0 : 1;
}
