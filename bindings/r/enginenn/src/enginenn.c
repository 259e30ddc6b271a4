/*
 * enginenn: R's .Call interface to the Engine C ABI (engine.h, libengine.so shipped in the package).
 *
 * A model is an external pointer to a heap cell holding the engine handle; its finalizer frees the model
 * when R collects it, and engine_free() here clears the pointer so a freed model is rejected with a clear
 * error instead of reaching the engine.
 *
 * R matrices are column-major doubles (or integers); the ABI takes row-major float32. Each matrix is
 * converted once, transpose and narrowing in one pass, into one R_alloc buffer (freed by R when the .Call
 * returns, also when it ends in an error), so the data is copied exactly once on its way in.
 * Errors: every status other than ENGINE_OK becomes an R error carrying engine_last_error()'s line. No R
 * error is raised while the engine is running (the epoch callback only prints), so R's longjmp never
 * crosses the native library's frames.
 */
#include <stdint.h>
#include <string.h>

#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>

#include "engine.h"

typedef struct { engine_model handle; } model_cell;

static void check(int32_t status) {
    if (status != ENGINE_OK) Rf_error("engine: %s", engine_last_error());
}

static void finalize(SEXP ptr) {
    model_cell *cell = (model_cell *)R_ExternalPtrAddr(ptr);
    if (cell) {
        engine_free(cell->handle);
        R_Free(cell);
        R_ClearExternalPtr(ptr);
    }
}

static engine_model handle_of(SEXP ptr) {
    if (TYPEOF(ptr) != EXTPTRSXP) Rf_error("engine: not a model");
    model_cell *cell = (model_cell *)R_ExternalPtrAddr(ptr);
    if (!cell) Rf_error("engine: the model has been freed (or was restored from a saved R session); load or create it again");
    return cell->handle;
}

static SEXP wrap(engine_model handle) {
    model_cell *cell = R_Calloc(1, model_cell);
    cell->handle = handle;
    SEXP ptr = PROTECT(R_MakeExternalPtr(cell, R_NilValue, R_NilValue));
    R_RegisterCFinalizerEx(ptr, finalize, TRUE); /* TRUE: also when R exits */
    UNPROTECT(1);
    return ptr;
}

static const char *string_arg(SEXP s, const char *name) {
    if (!Rf_isString(s) || XLENGTH(s) != 1 || STRING_ELT(s, 0) == NA_STRING) Rf_error("engine: %s must be one string", name);
    return CHAR(STRING_ELT(s, 0));
}

/* x: a rows x cols R matrix (double or integer, column-major) -> rows*cols row-major floats, one pass.
   A missing value (NA, NaN) is an error naming its place: the engine would only see NaN and report the
   training as diverged. */
static const float *row_major_floats(SEXP x, int64_t rows, int32_t cols) {
    float *f = (float *)R_alloc((size_t)(rows * cols > 0 ? rows * cols : 1), sizeof(float));
    if (TYPEOF(x) == REALSXP) {
        const double *v = REAL(x);
        for (int64_t i = 0; i < rows; i++)
            for (int32_t j = 0; j < cols; j++) {
                double value = v[(int64_t)j * rows + i];
                if (ISNAN(value)) Rf_error("engine: x[%lld, %d] is missing (NA or NaN)", (long long)i + 1, j + 1);
                f[i * cols + j] = (float)value;
            }
    } else if (TYPEOF(x) == INTSXP) {
        const int *v = INTEGER(x);
        for (int64_t i = 0; i < rows; i++)
            for (int32_t j = 0; j < cols; j++) {
                int value = v[(int64_t)j * rows + i];
                if (value == NA_INTEGER) Rf_error("engine: x[%lld, %d] is missing (NA)", (long long)i + 1, j + 1);
                f[i * cols + j] = (float)value;
            }
    } else {
        Rf_error("engine: x must be a numeric matrix");
    }
    return f;
}

static int64_t checked_rows(SEXP x, int32_t cols) {
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    if (!Rf_isMatrix(x) || INTEGER(dim)[1] != cols) Rf_error("engine: x must be a matrix with %d columns (one example per row)", cols);
    return INTEGER(dim)[0];
}

static const int32_t *labels(SEXP y, int64_t rows) {
    if (TYPEOF(y) != INTSXP) Rf_error("engine: y must be an integer vector");
    if (XLENGTH(y) != rows) Rf_error("engine: %lld labels for %lld rows", (long long)XLENGTH(y), (long long)rows);
    return (const int32_t *)INTEGER(y);
}

SEXP enginenn_version(void) { return Rf_mkString(engine_version()); }

SEXP enginenn_create(SEXP spec, SEXP divisor, SEXP seed, SEXP backend, SEXP threads) {
    engine_model m = 0;
    check(engine_create(string_arg(spec, "spec"), (float)Rf_asReal(divisor), (uint64_t)Rf_asReal(seed),
                        string_arg(backend, "backend"), Rf_asInteger(threads), &m));
    return wrap(m);
}

SEXP enginenn_load(SEXP path, SEXP backend, SEXP threads) {
    engine_model m = 0;
    check(engine_load(string_arg(path, "path"), string_arg(backend, "backend"), Rf_asInteger(threads), &m));
    return wrap(m);
}

SEXP enginenn_import_onnx(SEXP path, SEXP backend, SEXP threads) {
    engine_model m = 0;
    check(engine_import_onnx(string_arg(path, "path"), string_arg(backend, "backend"), Rf_asInteger(threads), &m));
    return wrap(m);
}

SEXP enginenn_export_onnx(SEXP model, SEXP path) {
    check(engine_export_onnx(handle_of(model), string_arg(path, "path")));
    return R_NilValue;
}

SEXP enginenn_import_safetensors(SEXP path, SEXP activation, SEXP divisor, SEXP backend, SEXP threads) {
    engine_model m = 0;
    check(engine_import_safetensors(string_arg(path, "path"), string_arg(activation, "activation"), (float)Rf_asReal(divisor),
                                    string_arg(backend, "backend"), Rf_asInteger(threads), &m));
    return wrap(m);
}

SEXP enginenn_export_safetensors(SEXP model, SEXP path) {
    check(engine_export_safetensors(handle_of(model), string_arg(path, "path")));
    return R_NilValue;
}

/* list(W = fan_in x fan_out matrix, b = fan_out vector) of every layer: z = x W + b. */
SEXP enginenn_weights(SEXP model) {
    engine_model m = handle_of(model);
    int32_t layers = 0;
    check(engine_layer_count(m, &layers));
    SEXP out = PROTECT(Rf_allocVector(VECSXP, layers));
    for (int32_t l = 0; l < layers; l++) {
        int32_t fan_in = 0, fan_out = 0;
        check(engine_layer_shape(m, l, &fan_in, &fan_out));
        float *w = (float *)R_alloc((size_t)fan_in * fan_out, sizeof(float)), *b = (float *)R_alloc((size_t)fan_out, sizeof(float));
        check(engine_get_weights(m, l, w, (int64_t)fan_in * fan_out, b, fan_out));
        SEXP wm = PROTECT(Rf_allocMatrix(REALSXP, fan_in, fan_out)), bv = PROTECT(Rf_allocVector(REALSXP, fan_out));
        for (int32_t i = 0; i < fan_in; i++)
            for (int32_t j = 0; j < fan_out; j++) REAL(wm)[(int64_t)j * fan_in + i] = w[(int64_t)i * fan_out + j];
        for (int32_t j = 0; j < fan_out; j++) REAL(bv)[j] = b[j];
        SEXP layer = PROTECT(Rf_allocVector(VECSXP, 2)), names = PROTECT(Rf_allocVector(STRSXP, 2));
        SET_VECTOR_ELT(layer, 0, wm);
        SET_VECTOR_ELT(layer, 1, bv);
        SET_STRING_ELT(names, 0, Rf_mkChar("W"));
        SET_STRING_ELT(names, 1, Rf_mkChar("b"));
        Rf_setAttrib(layer, R_NamesSymbol, names);
        SET_VECTOR_ELT(out, l, layer);
        UNPROTECT(4);
    }
    UNPROTECT(1);
    return out;
}

/* Layer `layer` (0-based) from a fan_in x fan_out double matrix W and a fan_out double vector b; the engine checks
   the sizes and that every value is finite, and changes nothing on error. */
SEXP enginenn_set_weights(SEXP model, SEXP layer, SEXP weights, SEXP bias) {
    engine_model m = handle_of(model);
    if (TYPEOF(weights) != REALSXP || !Rf_isMatrix(weights) || TYPEOF(bias) != REALSXP)
        Rf_error("engine: W must be a numeric matrix and b a numeric vector");
    SEXP dim = Rf_getAttrib(weights, R_DimSymbol);
    int rows = INTEGER(dim)[0], cols = INTEGER(dim)[1];
    float *w = (float *)R_alloc((size_t)rows * cols + 1, sizeof(float)), *b = (float *)R_alloc((size_t)XLENGTH(bias) + 1, sizeof(float));
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) w[(int64_t)i * cols + j] = (float)REAL(weights)[(int64_t)j * rows + i];
    for (R_xlen_t j = 0; j < XLENGTH(bias); j++) b[j] = (float)REAL(bias)[j];
    int32_t layers = 0, fan_in = 0, fan_out = 0, l = Rf_asInteger(layer);
    check(engine_layer_count(m, &layers));
    if (l < 0 || l >= layers) Rf_error("engine: layer %d does not exist: the model has layers 1..%d", l + 1, layers);
    check(engine_layer_shape(m, l, &fan_in, &fan_out));
    if (rows != fan_in || cols != fan_out)
        Rf_error("engine: layer %d takes a %d x %d W, got %d x %d", l + 1, fan_in, fan_out, rows, cols);
    check(engine_set_weights(m, l, w, (int64_t)rows * cols, b, (int64_t)XLENGTH(bias)));
    return R_NilValue;
}

SEXP enginenn_save(SEXP model, SEXP path) {
    check(engine_save(handle_of(model), string_arg(path, "path")));
    return R_NilValue;
}

SEXP enginenn_free(SEXP model) {
    if (TYPEOF(model) == EXTPTRSXP) finalize(model); /* idempotent: a second call finds the pointer cleared */
    return R_NilValue;
}

/* c(inputs, classes) */
SEXP enginenn_shape(SEXP model) {
    int32_t inputs = 0, classes = 0;
    check(engine_shape(handle_of(model), &inputs, &classes));
    SEXP out = PROTECT(Rf_allocVector(INTSXP, 2));
    INTEGER(out)[0] = inputs;
    INTEGER(out)[1] = classes;
    UNPROTECT(1);
    return out;
}

/* The architecture as engine_create's spec, e.g. "784-128-10 tanh" (loaded models too). */
SEXP enginenn_spec(SEXP model) {
    engine_model m = handle_of(model);
    size_t size = 0;
    check(engine_spec(m, NULL, 0, &size));
    char *buffer = R_alloc(size, 1);
    check(engine_spec(m, buffer, size, &size));
    return Rf_mkString(buffer);
}

static void print_epoch(int32_t epoch, double mean_loss, void *user) {
    (void)user;
    Rprintf("epoch %d: mean training loss %.4f\n", epoch, mean_loss);
}

/* hyper: learning_rate, l2, momentum, beta1, beta2, eps, lr_gamma, lr_min; ints: epochs, batch, shuffle,
   optimizer, schedule, lr_step, verbose. Returns the last epoch's mean training loss. */
SEXP enginenn_train(SEXP model, SEXP x, SEXP y, SEXP seed, SEXP hyper, SEXP ints) {
    engine_model m = handle_of(model);
    int32_t shape[2];
    check(engine_shape(m, &shape[0], &shape[1]));
    int64_t rows = checked_rows(x, shape[0]);
    const int32_t *yy = labels(y, rows);
    if (TYPEOF(hyper) != REALSXP || XLENGTH(hyper) != 8 || TYPEOF(ints) != INTSXP || XLENGTH(ints) != 7)
        Rf_error("engine: internal: bad option vectors");
    const double *h = REAL(hyper);
    const int *n = INTEGER(ints);
    engine_train_options o;
    memset(&o, 0, sizeof o);
    o.epochs = n[0];
    o.batch_size = n[1];
    o.learning_rate = (float)h[0];
    o.l2 = (float)h[1];
    o.seed = (uint64_t)Rf_asReal(seed);
    o.shuffle = n[2];
    o.on_epoch = n[6] ? print_epoch : NULL;
    engine_optimizer_options r;
    memset(&r, 0, sizeof r);
    r.optimizer = n[3];
    r.momentum = (float)h[2];
    r.beta1 = (float)h[3];
    r.beta2 = (float)h[4];
    r.epsilon = (float)h[5];
    r.schedule = n[4];
    r.step_epochs = n[5];
    r.gamma = (float)h[6];
    r.min_learning_rate = (float)h[7];
    const float *xf = row_major_floats(x, rows, shape[0]);
    double loss = 0;
    check(engine_train_ex(m, xf, yy, rows, shape[0], &o, &r, &loss));
    return Rf_ScalarReal(loss);
}

/* A rows x classes matrix of probabilities (the row-major floats transposed into R's layout). */
SEXP enginenn_predict(SEXP model, SEXP x) {
    engine_model m = handle_of(model);
    int32_t inputs = 0, classes = 0;
    check(engine_shape(m, &inputs, &classes));
    int64_t rows = checked_rows(x, inputs);
    const float *xf = row_major_floats(x, rows, inputs);
    float *p = (float *)R_alloc((size_t)(rows * classes > 0 ? rows * classes : 1), sizeof(float));
    if (rows > 0) check(engine_predict(m, xf, rows, inputs, p, rows * classes));
    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, (int)rows, classes));
    double *o = REAL(out);
    for (int64_t i = 0; i < rows; i++)
        for (int32_t c = 0; c < classes; c++) o[(int64_t)c * rows + i] = p[i * classes + c];
    UNPROTECT(1);
    return out;
}

/* list(accuracy, sensitivity, specificity, confusion) with confusion row = true class (R layout). */
SEXP enginenn_evaluate(SEXP model, SEXP x, SEXP y) {
    engine_model m = handle_of(model);
    int32_t inputs = 0, classes = 0;
    check(engine_shape(m, &inputs, &classes));
    int64_t rows = checked_rows(x, inputs);
    const int32_t *yy = labels(y, rows);
    const float *xf = row_major_floats(x, rows, inputs);
    double accuracy = 0;
    SEXP sens = PROTECT(Rf_allocVector(REALSXP, classes));
    SEXP spec = PROTECT(Rf_allocVector(REALSXP, classes));
    int32_t *confusion = (int32_t *)R_alloc((size_t)classes * classes, sizeof(int32_t));
    check(engine_evaluate(m, xf, yy, rows, inputs, &accuracy, REAL(sens), REAL(spec), confusion, classes));
    SEXP conf = PROTECT(Rf_allocMatrix(INTSXP, classes, classes));
    for (int32_t t = 0; t < classes; t++)
        for (int32_t p = 0; p < classes; p++) INTEGER(conf)[p * classes + t] = confusion[t * classes + p];
    SEXP out = PROTECT(Rf_allocVector(VECSXP, 4));
    SET_VECTOR_ELT(out, 0, Rf_ScalarReal(accuracy));
    SET_VECTOR_ELT(out, 1, sens);
    SET_VECTOR_ELT(out, 2, spec);
    SET_VECTOR_ELT(out, 3, conf);
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 4));
    SET_STRING_ELT(names, 0, Rf_mkChar("accuracy"));
    SET_STRING_ELT(names, 1, Rf_mkChar("sensitivity"));
    SET_STRING_ELT(names, 2, Rf_mkChar("specificity"));
    SET_STRING_ELT(names, 3, Rf_mkChar("confusion"));
    Rf_setAttrib(out, R_NamesSymbol, names);
    UNPROTECT(5);
    return out;
}

static const R_CallMethodDef call_methods[] = {
    {"version", (DL_FUNC)&enginenn_version, 0},
    {"create", (DL_FUNC)&enginenn_create, 5},
    {"load", (DL_FUNC)&enginenn_load, 3},
    {"save", (DL_FUNC)&enginenn_save, 2},
    {"free", (DL_FUNC)&enginenn_free, 1},
    {"shape", (DL_FUNC)&enginenn_shape, 1},
    {"spec", (DL_FUNC)&enginenn_spec, 1},
    {"import_onnx", (DL_FUNC)&enginenn_import_onnx, 3},
    {"export_onnx", (DL_FUNC)&enginenn_export_onnx, 2},
    {"weights", (DL_FUNC)&enginenn_weights, 1},
    {"import_safetensors", (DL_FUNC)&enginenn_import_safetensors, 5},
    {"export_safetensors", (DL_FUNC)&enginenn_export_safetensors, 2},
    {"set_weights", (DL_FUNC)&enginenn_set_weights, 4},
    {"train", (DL_FUNC)&enginenn_train, 6},
    {"predict", (DL_FUNC)&enginenn_predict, 2},
    {"evaluate", (DL_FUNC)&enginenn_evaluate, 3},
    {NULL, NULL, 0}};

void R_init_enginenn(DllInfo *dll) {
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
