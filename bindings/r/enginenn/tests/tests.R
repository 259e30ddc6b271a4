# Tests of the enginenn package (R CMD check runs this file; so does bindings/r/run.sh). Each failure is
# printed; the script stops with an error if any check failed.
library(enginenn)
failures <- 0L
checks <- 0L
check <- function(ok, what) {
  checks <<- checks + 1L
  if (!isTRUE(ok)) { failures <<- failures + 1L; cat("FAIL:", what, "\n") }
}
error_of <- function(expr) tryCatch({ expr; "" }, error = function(e) conditionMessage(e))

check(identical(engine_version(), as.character(utils::packageVersion("enginenn"))), "library version = DESCRIPTION version")
check(grepl("not a layer width", error_of(engine_create("4-x-3 tanh"))), "bad spec gives the engine's message")
check(grepl("/nonexistent/m.bin", error_of(engine_load("/nonexistent/m.bin"))), "missing file names the path")
check(grepl("threads", error_of(engine_create("4-8-3 tanh", threads = 0))), "threads = 0 is rejected")
check(grepl("seed", error_of(engine_create("4-8-3 tanh", seed = -1))), "negative seed is rejected")

set.seed(1)
n <- 300
y <- rep(0:2, length.out = n)
x <- t(sapply(y, function(c) 255 * (0.15 * runif(4) + ifelse(seq_len(4) - 1 == c, 0.7, 0.1))))
m <- engine_create("4-8-3 tanh", input_divisor = 255, seed = 3)
check(identical(c(m$inputs, m$classes), c(4L, 3L)), "shape")
check(grepl("4 inputs, 3 classes", paste(capture.output(print(m)), collapse = "")), "print shows the shape")
check(grepl("not a class", error_of(engine_train(m, x, replace(y, 5, 7L), epochs = 1))), "label out of range")
check(grepl("NA|whole", error_of(engine_train(m, x, replace(y, 5, NA), epochs = 1))), "NA label is rejected")
check(grepl("factor", error_of(engine_train(m, x, factor(y), epochs = 1))), "factor labels are rejected with a hint")
check(grepl("4 columns", error_of(predict(m, x[, 1:3]))), "wrong column count")
check(grepl("300 class numbers", error_of(engine_train(m, x, y[-1]))), "label count must match rows")
check(grepl("numeric", error_of(predict(m, matrix("a", 2, 4)))), "character matrix is rejected")
check(grepl("x\\[2, 3\\] is missing", error_of(engine_train(m, replace(x, cbind(2, 3), NA), y))), "NA in x names its place")
check(grepl("x\\[1, 4\\] is missing", error_of(predict(m, matrix(c(1, 2, 3, NaN), 1, 4)))), "NaN in x is rejected")
xna <- matrix(1L, 2, 4); xna[2, 1] <- NA
check(grepl("x\\[2, 1\\] is missing", error_of(engine_evaluate(m, xna, c(0, 1)))), "NA in an integer matrix is rejected")
check(grepl("unknown optimizer", error_of(engine_train(m, x, y, optimizer = "rmsprop"))), "unknown optimizer is rejected")
check(grepl("beta2", error_of(engine_train(m, x, y, optimizer = "adam", beta2 = 1))), "beta2 = 1 is rejected")
printed <- capture.output(engine_train(engine_create("4-8-3 tanh", input_divisor = 255), x, y, epochs = 2L, verbose = TRUE))
check(length(printed) == 2 && grepl("^epoch 2: mean training loss [0-9.]+$", printed[2]), "verbose prints each epoch's loss")
loss <- engine_train(m, x, y, epochs = 20L, batch_size = 10L, learning_rate = 0.1, l2 = 1e-4)
check(loss > 0 && loss < 0.3, sprintf("final loss %g", loss))
r <- engine_evaluate(m, x, y)
check(r$accuracy > 0.95, sprintf("accuracy %g", r$accuracy))
check(sum(r$confusion) == n && sum(diag(r$confusion)) / n == r$accuracy, "confusion matrix matches accuracy")
check(all(r$confusion[cbind(y + 1, predict(m, x, type = "class") + 1)] > 0), "confusion rows are true classes")
p <- predict(m, x)
check(all(dim(p) == c(n, 3)) && all(abs(rowSums(p) - 1) < 1e-5), "probabilities are rows summing to 1")
check(identical(predict(m, x, type = "class"), max.col(p, ties.method = "first") - 1L), "type = 'class' is the arg max")
# Column-major R data reaches the engine as the right rows: each row alone gives the same probabilities.
check(isTRUE(all.equal(predict(m, x[7, , drop = FALSE]), p[7, , drop = FALSE], tolerance = 0)), "one row = that row of the batch")
xi <- round(x); storage.mode(xi) <- "integer"
check(identical(predict(m, xi), predict(m, round(x))), "integer matrix = the same doubles")
check(identical(predict(m, as.data.frame(x)), p), "data frame = matrix")
check(identical(dim(predict(m, x[0, , drop = FALSE])), c(0L, 3L)), "zero rows give a 0 x 3 matrix")

ref <- engine_create("4-8-3 tanh", input_divisor = 255, seed = 3, backend = "reference")
engine_train(ref, x, y, epochs = 20L, batch_size = 10L, learning_rate = 0.1, l2 = 1e-4)
check(identical(predict(ref, x), p), "simd and reference give identical probabilities")

path <- tempfile(fileext = ".bin")
engine_save(m, path)
loaded <- engine_load(path)
check(identical(predict(loaded, x), p), "save/load round trip")
check(identical(loaded$spec, "4-8-3 tanh"), sprintf("a loaded model knows its spec (%s)", loaded$spec))
check(grepl("<engine_model 4-8-3 tanh: 4 inputs, 3 classes>", paste(capture.output(print(loaded)), collapse = ""),
            fixed = TRUE), "print shows a loaded model's architecture")
engine_free(m); engine_free(ref); engine_free(loaded)
engine_free(m)  # a second free is harmless
check(grepl("freed", error_of(predict(m, x))), "freed model is rejected")
check(grepl("freed", paste(capture.output(print(m)), collapse = "")), "print says freed")
unlink(path)

# Models dropped without engine_free are released by their finalizers when R collects them: the collection
# must not crash, and a model freed by hand before collection must not be freed twice.
for (i in 1:50) engine_create("784-256-10 tanh")
twice <- engine_create("4-8-3 tanh"); engine_free(twice); rm(twice)
invisible(gc())
check(identical(dim(predict(engine_create("4-8-3 tanh"), x)), c(300L, 3L)), "the engine works after finalizers ran")

# Adam with a cosine schedule: learns, and simd and reference give identical probabilities.
adam <- lapply(c("simd", "reference"), function(backend) {
  a <- engine_create("4-8-3 tanh", input_divisor = 255, seed = 5, backend = backend)
  engine_train(a, x, y, epochs = 20L, batch_size = 10L, learning_rate = 0.01, optimizer = "adam", schedule = "cosine")
  list(p = predict(a, x), accuracy = engine_evaluate(a, x, y)$accuracy)
})
check(adam[[1]]$accuracy > 0.9, sprintf("adam accuracy %g", adam[[1]]$accuracy))
check(identical(adam[[1]]$p, adam[[2]]$p), "adam: simd and reference give identical probabilities")

# Weights out as R matrices, a forward pass in R, weights in again; ONNX out and in.
w <- engine_create("4-8-3 tanh", input_divisor = 255, seed = 5)
engine_train(w, x, y, epochs = 5L, batch_size = 10L)
layers <- engine_weights(w)
check(length(layers) == 2 && identical(dim(layers[[1]]$W), c(4L, 8L)) && length(layers[[2]]$b) == 3, "engine_weights shapes")
z <- tanh((x / 255) %*% layers[[1]]$W + rep(layers[[1]]$b, each = n)) %*% layers[[2]]$W + rep(layers[[2]]$b, each = n)
p_r <- exp(z - apply(z, 1, max)); p_r <- p_r / rowSums(p_r)
check(max(abs(p_r - predict(w, x))) < 1e-5, sprintf("a forward pass in R from engine_weights agrees (%.2g)", max(abs(p_r - predict(w, x)))))
other <- engine_create("4-8-3 tanh", input_divisor = 255, seed = 99)
for (l in 1:2) engine_set_weights(other, l, layers[[l]]$W, layers[[l]]$b)
check(identical(predict(other, x), predict(w, x)), "engine_set_weights makes the same model")
check(grepl("layer 3 does not exist: the model has layers 1..2", error_of(engine_set_weights(other, 3, layers[[2]]$W, layers[[2]]$b))),
      "a missing layer is named in R's numbering")
check(grepl("takes a 8 x 3 W, got 4 x 8", error_of(engine_set_weights(other, 2, layers[[1]]$W, layers[[2]]$b))), "a wrong W shape is rejected")
nan_w <- layers[[2]]$W; nan_w[1, 1] <- NaN
check(nzchar(error_of(engine_set_weights(other, 2, nan_w, layers[[2]]$b))) && identical(predict(other, x), predict(w, x)),
      "a NaN weight is rejected and changes nothing")
onnx <- tempfile(fileext = ".onnx")
engine_export_onnx(w, onnx)
back <- engine_import_onnx(onnx, backend = "reference")
check(identical(predict(back, x), predict(w, x)) && identical(back$spec, "4-8-3 tanh"), "ONNX out and in: the same probabilities")
check(grepl("missing.onnx", error_of(engine_import_onnx(file.path(tempdir(), "missing.onnx")))), "a missing ONNX file is named")
unlink(onnx)
st <- tempfile(fileext = ".safetensors")
engine_export_safetensors(w, st)
from_st <- engine_import_safetensors(st, "tanh", input_divisor = 255)
check(identical(predict(from_st, x), predict(w, x)), "safetensors out and in: the same probabilities")
check(grepl("softsign", error_of(engine_import_safetensors(st, "softsign"))), "an unknown activation is named")
unlink(st)
engine_free(w); engine_free(other); engine_free(back); engine_free(from_st)

# The bundled digits ship with the package.
d <- engine_digits()
check(identical(dim(d$x_train), c(8000L, 784L)) && length(d$y_train) == 8000 && identical(dim(d$x_test), c(2000L, 784L)),
      "bundled digits: 8,000 train and 2,000 test images")
check(identical(as.integer(table(d$y_test)), c(221L, 229L, 212L, 206L, 203L, 166L, 189L, 197L, 171L, 206L)),
      "bundled test digits per class")
bad <- tempfile()
writeBin(as.raw(c(1, 2, 3)), bad)
check(grepl("not an IDX file", error_of(engine_read_idx(bad))), "a non-IDX file is rejected")
unlink(bad)

cat(sprintf("R binding tests: %d checks, %d failed\n", checks, failures))
if (failures > 0) stop(sprintf("%d of %d checks failed", failures, checks))
