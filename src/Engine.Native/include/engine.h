/*
 * engine.h: the C ABI of Engine (libengine.so, built with NativeAOT from src/Engine.Native).
 *
 * Install: tools/package-native.sh OUTDIR gives engine-native-<version>-linux-x64.tar.gz; after unpacking,
 *   PKG_CONFIG_PATH=<dir>/lib/pkgconfig cc app.c $(pkg-config --cflags --libs engine)
 * libengine.so.0 is a small dispatcher: on the first call it loads libengine-x86-64-v4.so (AVX-512) or
 * libengine-x86-64-v3.so (AVX2 + FMA) from its own directory, whichever the CPU runs; both give the same bits.
 * ENGINE_NATIVE_VARIANT=x86-64-v3|x86-64-v4 forces one. On a CPU below x86-64-v3 every call fails cleanly
 * (ENGINE_ERROR_INTERNAL, the reason in engine_last_error).
 *
 * Conventions
 * - Every function except engine_version, engine_last_error, engine_instruction_set and engine_free returns a status code:
 *   ENGINE_OK (0) or one of the errors below. On error, engine_last_error() describes it in one line.
 *   No exception or signal crosses the boundary: every failure is a status code.
 * - Matrices are float32, row-major. Feature matrices are rows x cols with no padding, except in the
 *   *_layout functions, which also take column-major (R, Fortran) matrices and strides.
 *   Buffers are owned by the caller; the engine never keeps a pointer after a call returns.
 * - Sizes are checked: null pointers, negative or zero sizes, output buffers shorter than the result,
 *   labels outside 0..classes-1 and options out of range are rejected before anything is written.
 *   The engine cannot know the length of an input array: x must hold rows*cols floats, y rows labels.
 * - Inputs are raw features; the model applies its input scaling (x / divisor, or standardization
 *   for models trained by the `engine` command with --standardize) itself.
 *
 * Thread safety
 * - engine_version, engine_last_error, engine_instruction_set: any thread, any time. engine_last_error is
 *   per thread.
 * - Calls on one model are serialized by a lock inside the model: it is safe, but not parallel, to use
 *   one model from several threads. Different models run in parallel independently.
 * - engine_free must not race with other calls on the same model; a freed handle is rejected
 *   (ENGINE_ERROR_ARGUMENT) by every later call.
 * - engine_sgemm: any thread. Calls with the same thread count share one worker pool and run one at
 *   a time; calls with different thread counts run in parallel.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <stddef.h>
#include <stdint.h>

/* The version of this header; engine_version() reports the library's (they match in a consistent install). */
#define ENGINE_VERSION_MAJOR 0
#define ENGINE_VERSION_MINOR 5
#define ENGINE_VERSION_PATCH 0
#define ENGINE_VERSION_STRING "0.5.0"

#ifdef __cplusplus
extern "C" {
#endif

#define ENGINE_OK 0
#define ENGINE_ERROR_ARGUMENT 1  /* null pointer, bad size, bad option, unknown or freed handle */
#define ENGINE_ERROR_DATA 2      /* unreadable or invalid file, labels out of range, wrong feature count */
#define ENGINE_ERROR_INTERNAL 3  /* a bug: please report the message */

/* An opaque handle to a classifier (network + input scaling + backend). */
typedef int64_t engine_model;

/* Called after every epoch of engine_train with the epoch number (1-based) and its mean training loss. */
typedef void (*engine_epoch_callback)(int32_t epoch, double mean_loss, void *user);

typedef struct engine_train_options {
    int32_t epochs;          /* >= 1 */
    int32_t batch_size;      /* >= 1; the update is the mean of the batch's per-example gradients */
    float learning_rate;     /* > 0 */
    float l2;                /* >= 0; loss += (l2/2)*sum(W^2) over weights, not biases */
    uint64_t seed;           /* shuffling seed */
    int32_t shuffle;         /* 1: a new permutation every epoch; 0: file order */
    engine_epoch_callback on_epoch; /* may be NULL */
    void *user;              /* passed to on_epoch */
} engine_train_options;

/* Update rules and learning-rate schedules of engine_train_ex (PyTorch's conventions; see the README's
   "Optimizers, schedules and early stopping"). */
enum { ENGINE_SGD = 0, ENGINE_MOMENTUM = 1, ENGINE_NESTEROV = 2, ENGINE_ADAM = 3, ENGINE_ADAMW = 4 };
enum { ENGINE_CONSTANT = 0, ENGINE_STEP = 1, ENGINE_COSINE = 2 };

typedef struct engine_optimizer_options {
    int32_t optimizer;       /* ENGINE_SGD ... ENGINE_ADAMW */
    float momentum;          /* momentum, nesterov: mu in [0, 1), e.g. 0.9 */
    float beta1, beta2;      /* adam, adamw: in [0, 1), e.g. 0.9 and 0.999 */
    float epsilon;           /* adam, adamw: > 0, e.g. 1e-8 */
    int32_t schedule;        /* ENGINE_CONSTANT, ENGINE_STEP or ENGINE_COSINE, stepped once per epoch */
    int32_t step_epochs;     /* step: epochs between decays (>= 1) */
    float gamma;             /* step: decay factor in (0, 1] */
    float min_learning_rate; /* cosine: the final rate, >= 0 and below learning_rate */
} engine_optimizer_options;  /* fields a rule or schedule does not use are ignored (may be 0) */

/* The library version, e.g. "0.5.0". Static storage; never free it. */
const char *engine_version(void);

/* The last error on this thread, or "" if none. Valid until the next engine call on this thread. */
const char *engine_last_error(void);

/*
 * Creates a classifier from a spec "784-128-10 tanh" (layer widths input to output, then tanh, relu or
 * sigmoid for the hidden layers) with Glorot/He uniform weights from seed. Inputs are divided by
 * input_divisor (e.g. 255 for bytes; 1 for data already in [0, 1]).
 * backend: "simd" (fast) or "reference" (scalar; bit-identical results), NULL for simd.
 * threads: worker threads of the simd backend (>= 1).
 */
int32_t engine_create(const char *spec, float input_divisor, uint64_t seed, const char *backend, int32_t threads,
                      engine_model *out_model);

/* Loads a model saved by engine_save or `engine train --out`. */
int32_t engine_load(const char *path, const char *backend, int32_t threads, engine_model *out_model);

/* A model from an ONNX file: the MLPs torch.onnx.export (Gemm), Keras/tf2onnx (MatMul + Add) and engine_export_onnx
   write (`engine import` documents the forms); anything else is ENGINE_ERROR_DATA with the node named in the message. */
int32_t engine_import_onnx(const char *path, const char *backend, int32_t threads, engine_model *out_model);

/* A model from a safetensors file of PyTorch Linear weights ("0.weight" (out, in), "0.bias", "2.weight", ..., ordered
   by prefix; F32, F64, F16 or BF16), as `engine import --activation` reads it. The file holds no activation and no
   input scaling, so they are given: activation "tanh", "relu" or "sigmoid", inputs divided by input_divisor. */
int32_t engine_import_safetensors(const char *path, const char *activation, float input_divisor, const char *backend,
                                  int32_t threads, engine_model *out_model);

/* Saves atomically: an interrupted save leaves an existing file intact. */
int32_t engine_save(engine_model model, const char *path);

/* Releases the model. Unknown or already freed handles are ignored. */
void engine_free(engine_model model);

/* Input features per example and number of classes. */
int32_t engine_shape(engine_model model, int32_t *out_inputs, int32_t *out_classes);

/* Mini-batch SGD on x (rows x cols raw features) and y (rows labels). out_mean_loss (may be NULL)
   receives the last epoch's mean training loss. */
int32_t engine_train(engine_model model, const float *x, const int32_t *y, int64_t rows, int32_t cols,
                     const engine_train_options *options, double *out_mean_loss);

/* engine_train with an update rule and schedule; optimizer NULL is plain SGD. The optimizer's state (velocity,
   Adam's moments) starts at zero in every call. With ENGINE_ADAMW, options->l2 is the decoupled weight decay. */
int32_t engine_train_ex(engine_model model, const float *x, const int32_t *y, int64_t rows, int32_t cols,
                        const engine_train_options *options, const engine_optimizer_options *optimizer,
                        double *out_mean_loss);

/* Class probabilities: writes rows x classes floats to probabilities (capacity in floats). */
int32_t engine_predict(engine_model model, const float *x, int64_t rows, int32_t cols, float *probabilities,
                       int64_t capacity);

/*
 * Evaluates on labelled data: accuracy, and per class c (arrays of class_capacity >= classes doubles)
 * sensitivity = TP/(TP+FN) and specificity = TN/(TN+FP) (NaN when undefined). confusion (may be NULL)
 * receives classes x classes counts, row = true class, column = predicted, and then needs
 * class_capacity*class_capacity elements (the first classes*classes are written).
 */
int32_t engine_evaluate(engine_model model, const float *x, const int32_t *y, int64_t rows, int32_t cols,
                        double *out_accuracy, double *sensitivity, double *specificity, int32_t *confusion,
                        int32_t class_capacity);

/*
 * C = op(A) * op(B), or C += op(A) * op(B) when accumulate != 0, on the simd backend. op(A) is m x k, op(B)
 * is k x n, C is m x n, all row-major with leading dimensions (row strides) lda, ldb, ldc. trans_a != 0
 * means A is stored k x m (op(A) = A^T); likewise trans_b (B stored n x k). Every element follows the
 * engine's fma order, so results are bit-identical to the scalar reference for any thread count.
 */
int32_t engine_sgemm(int32_t trans_a, int32_t trans_b, int32_t m, int32_t n, int32_t k, const float *a, int32_t lda,
                     const float *b, int32_t ldb, float *c, int32_t ldc, int32_t accumulate, int32_t threads);

/* ---- Since 0.5.0 ---- */

/* The instruction-set path new simd models use: "avx512", "avx2", "vector" or "scalar" (ENGINE_ISA forces one).
   Static storage. The library is compiled for x86-64-v3 (AVX2 + FMA), so it loads on any such CPU. */
const char *engine_instruction_set(void);

/* Layouts of a feature matrix for the *_layout functions. ld is the distance, in floats, between the starts of
   consecutive rows (row-major, ld >= cols) or columns (column-major, ld >= rows); 0 means tightly packed.
   Row-major tight input is read in place; other layouts are gathered once into the engine's own buffer. */
enum { ENGINE_ROW_MAJOR = 0, ENGINE_COL_MAJOR = 1 };

/* engine_predict for a matrix in any layout (probabilities are always rows x classes, row-major). */
int32_t engine_predict_layout(engine_model model, const float *x, int64_t rows, int32_t cols, int32_t layout,
                              int64_t ld, float *probabilities, int64_t capacity);

/* engine_train_ex for a matrix in any layout; optimizer may be NULL (plain SGD). */
int32_t engine_train_layout(engine_model model, const float *x, int32_t layout, int64_t ld, const int32_t *y,
                            int64_t rows, int32_t cols, const engine_train_options *options,
                            const engine_optimizer_options *optimizer, double *out_mean_loss);

/*
 * The model file's bytes (what engine_save writes) into buffer. Ask the size first: with buffer NULL only
 * *out_size is set. When capacity is too small the call fails (ENGINE_ERROR_ARGUMENT) and *out_size still
 * holds the size needed; nothing is written.
 */
int32_t engine_save_buffer(engine_model model, void *buffer, size_t capacity, size_t *out_size);

/* A model from size bytes of a model file (engine_save_buffer, engine_save); checked like engine_load. */
int32_t engine_load_buffer(const void *data, size_t size, const char *backend, int32_t threads,
                           engine_model *out_model);

/* Writes a standard ONNX model (IR 8, opset 13) atomically: input "input" [batch, inputs] of raw features, the
   input scaling, the layers and softmax, output "probabilities" [batch, classes]. */
int32_t engine_export_onnx(engine_model model, const char *path);

/* Writes the weights as safetensors, atomically, with nn.Sequential(Linear, activation, ...)'s names and layout, so
   PyTorch's load_state_dict takes the file; the activation and the input scaling are not in it. */
int32_t engine_export_safetensors(engine_model model, const char *path);

/* The model's architecture as engine_create's spec, e.g. "784-128-10 tanh" (also for loaded and imported models),
   NUL-terminated into buffer. Sizes as in engine_save_buffer: *out_size gets the bytes needed including the NUL,
   buffer NULL asks only for that, a shorter capacity fails with nothing written. */
int32_t engine_spec(engine_model model, char *buffer, size_t capacity, size_t *out_size);

/* Number of dense layers (hidden layers + output layer). */
int32_t engine_layer_count(engine_model model, int32_t *out_layers);

/* Layer i (0-based; W{i+1}, b{i+1} in the .npz naming): weights fan_in x fan_out, bias fan_out. */
int32_t engine_layer_shape(engine_model model, int32_t layer, int32_t *out_fan_in, int32_t *out_fan_out);

/* Copies layer i's weights (fan_in x fan_out, row-major: z = x W + b) and bias out; capacities in floats. */
int32_t engine_get_weights(engine_model model, int32_t layer, float *weights, int64_t weight_capacity, float *bias,
                           int64_t bias_capacity);

/* Replaces layer i's weights and bias; the counts must equal the layer's sizes, values must be finite.
   Nothing changes on error. */
int32_t engine_set_weights(engine_model model, int32_t layer, const float *weights, int64_t weight_count,
                           const float *bias, int64_t bias_count);

/* Options of one training step. Set struct_size = sizeof(engine_step_options): later versions append
   fields, and a library older than the header refuses a struct whose unknown fields are not zero. */
typedef struct engine_step_options {
    uint32_t struct_size;    /* sizeof(engine_step_options) */
    int32_t optimizer;       /* ENGINE_SGD ... ENGINE_ADAMW */
    float learning_rate;     /* > 0 */
    float l2;                /* >= 0 (ENGINE_ADAMW: decoupled weight decay) */
    float momentum;          /* momentum, nesterov */
    float beta1, beta2;      /* adam, adamw */
    float epsilon;           /* adam, adamw */
} engine_step_options;

/*
 * One optimizer step on one batch (rows x cols raw features, row-major; rows labels): forward, backward, update
 * with the mean gradient. out_loss (may be NULL) receives the batch's mean cross-entropy before the update. The
 * optimizer's state (velocity, Adam's moments) carries over between calls while the optimizer and its settings
 * stay the same; another optimizer starts from zero state.
 */
int32_t engine_train_step(engine_model model, const float *x, const int32_t *y, int64_t rows, int32_t cols,
                          const engine_step_options *options, double *out_loss);

#ifdef __cplusplus
}
#endif

#endif /* ENGINE_H */
