# R bindings for Engine: dyn.load() of libengine.so (the C ABI) and of engine_r.so (the .C adapters in
# engine_r.c), then plain R functions. Feature matrices are ordinary R matrices, one example per row;
# they are passed to the engine row-major (as.double(t(x))). Labels are integers 0..classes-1.
#
#   source("bindings/r/engine.R"); engine_init("out/native")
#   m <- engine_create("784-128-10 tanh", input_divisor = 255)
#   engine_train(m, x, y, epochs = 30, batch_size = 16, learning_rate = 0.1, l2 = 1e-4)
#   engine_evaluate(m, x_test, y_test)$accuracy

engine_init <- function(dir = Sys.getenv("ENGINE_NATIVE_DIR", "out/native")) {
  dyn.load(file.path(dir, "libengine.so"))
  dyn.load(file.path(dir, "engine_r.so"))
  invisible(engine_version())
}

.engine_message <- function() strrep(" ", 1000)

.engine_check <- function(r) {
  if (r$status != 0L) stop(sprintf("engine: %s", trimws(r$message)), call. = FALSE)
  r
}

engine_version <- function() trimws(.C("engine_r_version", out = strrep(" ", 64))$out)

.engine_model <- function(handle) {
  r <- .engine_check(.C("engine_r_shape", as.double(handle), inputs = integer(1), classes = integer(1),
                        status = integer(1), message = .engine_message()))
  structure(list(handle = handle, inputs = r$inputs, classes = r$classes), class = "engine_model")
}

# A new network from a spec such as "784-128-10 tanh"; raw inputs are divided by input_divisor.
engine_create <- function(spec, input_divisor = 1, seed = 0, backend = "simd", threads = 1L) {
  r <- .engine_check(.C("engine_r_create", as.character(spec), as.double(input_divisor), as.double(seed),
                        as.character(backend), as.integer(threads), handle = double(1),
                        status = integer(1), message = .engine_message()))
  .engine_model(r$handle)
}

engine_load <- function(path, backend = "simd", threads = 1L) {
  r <- .engine_check(.C("engine_r_load", as.character(path), as.character(backend), as.integer(threads),
                        handle = double(1), status = integer(1), message = .engine_message()))
  .engine_model(r$handle)
}

engine_save <- function(model, path) {
  .engine_check(.C("engine_r_save", as.double(model$handle), as.character(path),
                   status = integer(1), message = .engine_message()))
  invisible(path)
}

engine_free <- function(model) invisible(.C("engine_r_free", as.double(model$handle)))

.engine_rows <- function(model, x) {
  if (!is.matrix(x) || ncol(x) != model$inputs)
    stop(sprintf("engine: x must be a matrix with %d columns (one example per row)", model$inputs), call. = FALSE)
  nrow(x)
}

# Mini-batch training; the update uses the mean of the batch's per-example gradients. optimizer: "sgd",
# "momentum", "nesterov", "adam" or "adamw" (PyTorch's conventions; l2 is adamw's decoupled decay); schedule:
# "constant", "step" (x lr_gamma every lr_step epochs) or "cosine" (to lr_min). Returns the last epoch's mean
# training loss.
engine_train <- function(model, x, y, epochs = 10L, batch_size = 32L, learning_rate = 0.1, l2 = 1e-4,
                         seed = 0, shuffle = TRUE, optimizer = "sgd", momentum = 0.9, beta1 = 0.9, beta2 = 0.999,
                         eps = 1e-8, schedule = "constant", lr_step = 10L, lr_gamma = 0.1, lr_min = 0) {
  rows <- .engine_rows(model, x)
  if (length(y) != rows) stop(sprintf("engine: %d labels for %d rows", length(y), rows), call. = FALSE)
  rule <- match(optimizer, c("sgd", "momentum", "nesterov", "adam", "adamw")) - 1L
  if (is.na(rule)) stop(sprintf("engine: unknown optimizer '%s'", optimizer), call. = FALSE)
  sched <- match(schedule, c("constant", "step", "cosine")) - 1L
  if (is.na(sched)) stop(sprintf("engine: unknown schedule '%s'", schedule), call. = FALSE)
  r <- .engine_check(.C("engine_r_train", as.double(model$handle), as.double(t(x)), as.integer(y), as.integer(rows),
                        as.integer(model$inputs), as.integer(epochs), as.integer(batch_size), as.double(learning_rate),
                        as.double(l2), as.double(seed), as.integer(shuffle), as.integer(rule),
                        as.double(c(momentum, beta1, beta2, eps, lr_gamma, lr_min)), as.integer(sched), as.integer(lr_step),
                        loss = double(1), status = integer(1), message = .engine_message()))
  r$loss
}

# Class probabilities: a rows x classes matrix.
engine_predict <- function(model, x) {
  rows <- .engine_rows(model, x)
  r <- .engine_check(.C("engine_r_predict", as.double(model$handle), as.double(t(x)), as.integer(rows),
                        as.integer(model$inputs), as.integer(model$classes),
                        p = double(rows * model$classes), status = integer(1), message = .engine_message()))
  matrix(r$p, nrow = rows, byrow = TRUE)
}

# Accuracy, per-class sensitivity and specificity, and the confusion matrix (rows = true class).
engine_evaluate <- function(model, x, y) {
  rows <- .engine_rows(model, x)
  k <- model$classes
  r <- .engine_check(.C("engine_r_evaluate", as.double(model$handle), as.double(t(x)), as.integer(y), as.integer(rows),
                        as.integer(model$inputs), as.integer(k), accuracy = double(1), sensitivity = double(k),
                        specificity = double(k), confusion = integer(k * k), status = integer(1),
                        message = .engine_message()))
  list(accuracy = r$accuracy, sensitivity = r$sensitivity, specificity = r$specificity,
       confusion = matrix(r$confusion, nrow = k, byrow = TRUE, dimnames = list(true = 0:(k - 1), predicted = 0:(k - 1))))
}
