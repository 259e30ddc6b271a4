# R interface to the Engine C ABI. A model is an "engine_model": a list holding an external pointer (freed by
# a finalizer when R collects the model, or at once by engine_free) and the network's shape.

.model <- function(ptr) {
  shape <- .Call(C_shape, ptr)
  # The spec comes from the engine, so a loaded model shows its architecture too.
  structure(list(ptr = ptr, inputs = shape[1], classes = shape[2], spec = .Call(C_spec, ptr)), class = "engine_model")
}

.stop <- function(...) stop(sprintf(...), call. = FALSE)

.count <- function(value, name, min = 1) {
  if (!is.numeric(value) || length(value) != 1 || is.na(value) || value != round(value) || value < min)
    .stop("engine: %s must be a whole number >= %d", name, min)
  as.integer(value)
}

.seed <- function(seed) {
  if (!is.numeric(seed) || length(seed) != 1 || is.na(seed) || seed < 0 || seed != round(seed) || seed >= 2^53)
    .stop("engine: seed must be a whole number in [0, 2^53)")
  as.double(seed)
}

.check_model <- function(model) if (!inherits(model, "engine_model")) .stop("engine: model must be an engine_model")

# engine_save and the exports: one of the model's files, written by the C routine; path returned invisibly.
.write_file <- function(model, path, routine) {
  .check_model(model)
  .Call(routine, model$ptr, path.expand(path))
  invisible(path)
}

.features <- function(model, x) {
  .check_model(model)
  if (is.data.frame(x)) x <- as.matrix(x)
  if (!is.matrix(x) || ncol(x) != model$inputs)
    .stop("engine: x must be a matrix with %d columns (one example per row)", model$inputs)
  # Doubles and integers go to C as they are (converted there in one pass); logicals become integers.
  if (is.logical(x)) storage.mode(x) <- "integer"
  if (!is.double(x) && !is.integer(x)) .stop("engine: x must be numeric")
  x
}

.labels <- function(y, rows) {
  if (is.factor(y)) .stop("engine: y must hold the class numbers 0..classes-1, not a factor (use as.integer(y) - 1L)")
  if (!is.numeric(y) || length(y) != rows) .stop("engine: y must be %d class numbers (one per row of x)", rows)
  if (anyNA(y) || any(y != round(y))) .stop("engine: y must hold whole class numbers 0..classes-1")
  as.integer(y)
}

engine_version <- function() .Call(C_version)

engine_create <- function(spec, input_divisor = 1, seed = 0, backend = "simd", threads = 1L) {
  if (!is.numeric(input_divisor) || length(input_divisor) != 1 || is.na(input_divisor))
    .stop("engine: input_divisor must be one number")
  ptr <- .Call(C_create, spec, as.double(input_divisor), .seed(seed), backend, .count(threads, "threads"))
  .model(ptr)
}

engine_load <- function(path, backend = "simd", threads = 1L) {
  ptr <- .Call(C_load, path.expand(path), backend, .count(threads, "threads"))
  .model(ptr)
}

engine_import_onnx <- function(path, backend = "simd", threads = 1L) {
  ptr <- .Call(C_import_onnx, path.expand(path), backend, .count(threads, "threads"))
  .model(ptr)
}

engine_export_onnx <- function(model, path) .write_file(model, path, C_export_onnx)

engine_import_safetensors <- function(path, activation, input_divisor = 1, backend = "simd", threads = 1L) {
  if (!is.numeric(input_divisor) || length(input_divisor) != 1 || is.na(input_divisor))
    .stop("engine: input_divisor must be one number")
  ptr <- .Call(C_import_safetensors, path.expand(path), activation, as.double(input_divisor), backend,
               .count(threads, "threads"))
  .model(ptr)
}

engine_export_safetensors <- function(model, path) .write_file(model, path, C_export_safetensors)

engine_weights <- function(model) {
  .check_model(model)
  .Call(C_weights, model$ptr)
}

engine_set_weights <- function(model, layer, W, b) {
  .check_model(model)
  layer <- .count(layer, "layer")
  if (!is.matrix(W) || !is.numeric(W) || !is.numeric(b)) .stop("engine: W must be a numeric matrix and b a numeric vector")
  storage.mode(W) <- "double"
  .Call(C_set_weights, model$ptr, layer - 1L, W, as.double(b))
  invisible(model)
}

engine_save <- function(model, path) .write_file(model, path, C_save)

engine_free <- function(model) {
  .check_model(model)
  .Call(C_free, model$ptr)
  invisible(NULL)
}

engine_train <- function(model, x, y, epochs = 10L, batch_size = 32L, learning_rate = 0.1, l2 = 1e-4,
                         seed = 0, shuffle = TRUE, optimizer = "sgd", momentum = 0.9, beta1 = 0.9, beta2 = 0.999,
                         eps = 1e-8, schedule = "constant", lr_step = 10L, lr_gamma = 0.1, lr_min = 0,
                         verbose = FALSE) {
  x <- .features(model, x)
  y <- .labels(y, nrow(x))
  rule <- match(optimizer, c("sgd", "momentum", "nesterov", "adam", "adamw")) - 1L
  if (length(rule) != 1 || is.na(rule)) .stop("engine: unknown optimizer '%s' (sgd, momentum, nesterov, adam or adamw)", paste(optimizer, collapse = " "))
  sched <- match(schedule, c("constant", "step", "cosine")) - 1L
  if (length(sched) != 1 || is.na(sched)) .stop("engine: unknown schedule '%s' (constant, step or cosine)", paste(schedule, collapse = " "))
  hyper <- c(learning_rate, l2, momentum, beta1, beta2, eps, lr_gamma, lr_min)
  if (!is.numeric(hyper) || length(hyper) != 8 || anyNA(hyper))
    .stop("engine: learning_rate, l2, momentum, beta1, beta2, eps, lr_gamma and lr_min must each be one number")
  ints <- c(.count(epochs, "epochs"), .count(batch_size, "batch_size"), as.integer(isTRUE(shuffle)), rule, sched,
            .count(lr_step, "lr_step"), as.integer(isTRUE(verbose)))
  invisible(.Call(C_train, model$ptr, x, y, .seed(seed), as.double(hyper), ints))
}

engine_evaluate <- function(model, x, y) {
  x <- .features(model, x)
  r <- .Call(C_evaluate, model$ptr, x, .labels(y, nrow(x)))
  k <- model$classes
  dimnames(r$confusion) <- list(true = 0:(k - 1), predicted = 0:(k - 1))
  names(r$sensitivity) <- names(r$specificity) <- 0:(k - 1)
  r
}

predict.engine_model <- function(object, newdata, type = c("prob", "class"), ...) {
  type <- match.arg(type)
  p <- .Call(C_predict, object$ptr, .features(object, newdata))
  colnames(p) <- 0:(object$classes - 1)
  if (type == "class") max.col(p, ties.method = "first") - 1L else p
}

print.engine_model <- function(x, ...) {
  status <- tryCatch({ .Call(C_shape, x$ptr); "" }, error = function(e) " (freed)")
  cat(sprintf("<engine_model %s: %d inputs, %d classes%s>\n", x$spec, x$inputs, x$classes, status))
  invisible(x)
}

engine_read_idx <- function(path) {
  con <- if (grepl("\\.gz$", path)) gzfile(path, "rb") else file(path, "rb")
  on.exit(close(con))
  header <- readBin(con, "raw", n = 4)
  if (length(header) != 4 || header[1] != 0 || header[2] != 0 || header[3] != as.raw(8))
    .stop("engine: %s: not an IDX file of unsigned bytes", path)
  rank <- as.integer(header[4])
  dims <- readBin(con, "integer", n = rank, size = 4, endian = "big")
  if (length(dims) != rank || anyNA(dims) || any(dims < 0)) .stop("engine: %s: truncated IDX header", path)
  n <- prod(as.double(dims))
  values <- readBin(con, "integer", n = n, size = 1, signed = FALSE)
  if (length(values) != n) .stop("engine: %s: %d values where the header promises %.0f", path, length(values), n)
  if (rank == 1) values else matrix(values, nrow = dims[1], byrow = TRUE)
}

engine_digits <- function() {
  dir <- system.file("extdata", "mnist-10k", package = "enginenn")
  if (!nzchar(dir)) .stop("engine: the bundled digits are not installed with this package")
  read <- function(name) engine_read_idx(file.path(dir, name))
  list(x_train = read("train-images-idx3-ubyte.gz"), y_train = read("train-labels-idx1-ubyte.gz"),
       x_test = read("t10k-images-idx3-ubyte.gz"), y_test = read("t10k-labels-idx1-ubyte.gz"))
}
