/*
 * R's .C() interface to engine.h. .C passes every argument as a pointer to a copy of an R vector
 * (integer -> int*, numeric -> double*, character -> char**), so these adapters take only pointers,
 * convert R's doubles to the engine's float32, and report errors through status and message
 * (a preallocated string that is overwritten, never lengthened). Handles travel as doubles, which
 * hold the engine's handle numbers exactly. No R headers are needed: build with gcc alone.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

static void report(int32_t status, int *out_status, char **message) {
    *out_status = status;
    const char *text = status == ENGINE_OK ? "" : engine_last_error();
    size_t capacity = strlen(message[0]);
    size_t n = strlen(text) < capacity ? strlen(text) : capacity;
    memcpy(message[0], text, n);
    message[0][n] = '\0';
}

static float *to_float(const double *values, long n) {
    float *f = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (f)
        for (long i = 0; i < n; i++) f[i] = (float)values[i];
    return f;
}

void engine_r_version(char **out) {
    const char *v = engine_version();
    size_t n = strlen(v) < strlen(out[0]) ? strlen(v) : strlen(out[0]);
    memcpy(out[0], v, n);
    out[0][n] = '\0';
}

void engine_r_create(char **spec, double *divisor, double *seed, char **backend, int *threads, double *handle, int *status, char **message) {
    engine_model m = 0;
    report(engine_create(spec[0], (float)*divisor, (uint64_t)*seed, backend[0], *threads, &m), status, message);
    *handle = (double)m;
}

void engine_r_load(char **path, char **backend, int *threads, double *handle, int *status, char **message) {
    engine_model m = 0;
    report(engine_load(path[0], backend[0], *threads, &m), status, message);
    *handle = (double)m;
}

void engine_r_save(double *handle, char **path, int *status, char **message) {
    report(engine_save((engine_model)*handle, path[0]), status, message);
}

void engine_r_free(double *handle) { engine_free((engine_model)*handle); }

void engine_r_shape(double *handle, int *inputs, int *classes, int *status, char **message) {
    report(engine_shape((engine_model)*handle, inputs, classes), status, message);
}

void engine_r_train(double *handle, double *x, int *y, int *rows, int *cols, int *epochs, int *batch, double *lr, double *l2,
                    double *seed, int *shuffle, int *optimizer, double *hyper, int *schedule, int *step_epochs,
                    double *loss, int *status, char **message) {
    float *xf = to_float(x, (long)*rows * *cols);
    engine_train_options o = {0};
    o.epochs = *epochs; o.batch_size = *batch; o.learning_rate = (float)*lr; o.l2 = (float)*l2;
    o.seed = (uint64_t)*seed; o.shuffle = *shuffle;
    /* hyper: momentum, beta1, beta2, epsilon, gamma, min_learning_rate */
    engine_optimizer_options r = {*optimizer, (float)hyper[0], (float)hyper[1], (float)hyper[2], (float)hyper[3],
                                  *schedule, *step_epochs, (float)hyper[4], (float)hyper[5]};
    report(xf ? engine_train_ex((engine_model)*handle, xf, y, *rows, *cols, &o, &r, loss) : ENGINE_ERROR_ARGUMENT, status, message);
    free(xf);
}

void engine_r_predict(double *handle, double *x, int *rows, int *cols, int *classes, double *probabilities, int *status, char **message) {
    long n = (long)*rows * *classes;
    float *xf = to_float(x, (long)*rows * *cols), *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    int32_t rc = xf && p ? engine_predict((engine_model)*handle, xf, *rows, *cols, p, n) : ENGINE_ERROR_ARGUMENT;
    if (rc == ENGINE_OK)
        for (long i = 0; i < n; i++) probabilities[i] = p[i];
    report(rc, status, message);
    free(xf);
    free(p);
}

void engine_r_evaluate(double *handle, double *x, int *y, int *rows, int *cols, int *classes, double *accuracy,
                       double *sensitivity, double *specificity, int *confusion, int *status, char **message) {
    float *xf = to_float(x, (long)*rows * *cols);
    report(xf ? engine_evaluate((engine_model)*handle, xf, y, *rows, *cols, accuracy, sensitivity, specificity, confusion, *classes)
              : ENGINE_ERROR_ARGUMENT,
           status, message);
    free(xf);
}
