# Tests of the R bindings (run by bindings/r/run.sh). Each failure is printed; the script exits 1 if any.
source("bindings/r/engine.R")
engine_init("out/native")
failures <- 0L
checks <- 0L
check <- function(ok, what) {
  checks <<- checks + 1L
  if (!isTRUE(ok)) { failures <<- failures + 1L; cat("FAIL:", what, "\n") }
}
error_of <- function(expr) tryCatch({ expr; "" }, error = function(e) conditionMessage(e))

check(grepl("^[0-9]+\\.[0-9]+\\.[0-9]+", engine_version()), "version")
check(grepl("not a layer width", error_of(engine_create("4-x-3 tanh"))), "bad spec gives the engine's message")
check(grepl("/nonexistent/m.bin", error_of(engine_load("/nonexistent/m.bin"))), "missing file names the path")

set.seed(1)
n <- 300
y <- rep(0:2, length.out = n)
x <- t(sapply(y, function(c) 255 * (0.15 * runif(4) + ifelse(seq_len(4) - 1 == c, 0.7, 0.1))))
m <- engine_create("4-8-3 tanh", input_divisor = 255, seed = 3)
check(grepl("not a class", error_of(engine_train(m, x, replace(y, 5, 7L), epochs = 1))), "label out of range")
check(grepl("4 columns", error_of(engine_predict(m, x[, 1:3]))), "wrong column count")
loss <- engine_train(m, x, y, epochs = 20L, batch_size = 10L, learning_rate = 0.1, l2 = 1e-4)
check(loss > 0 && loss < 0.3, sprintf("final loss %g", loss))
r <- engine_evaluate(m, x, y)
check(r$accuracy > 0.95, sprintf("accuracy %g", r$accuracy))
check(sum(r$confusion) == n && sum(diag(r$confusion)) / n == r$accuracy, "confusion matrix matches accuracy")
p <- engine_predict(m, x)
check(all(dim(p) == c(n, 3)) && all(abs(rowSums(p) - 1) < 1e-5), "probabilities are rows summing to 1")

ref <- engine_create("4-8-3 tanh", input_divisor = 255, seed = 3, backend = "reference")
engine_train(ref, x, y, epochs = 20L, batch_size = 10L, learning_rate = 0.1, l2 = 1e-4)
check(identical(engine_predict(ref, x), p), "simd and reference give identical probabilities")

path <- tempfile(fileext = ".bin")
engine_save(m, path)
loaded <- engine_load(path)
check(identical(engine_predict(loaded, x), p), "save/load round trip")
engine_free(m); engine_free(ref); engine_free(loaded)
check(grepl("not a live model", error_of(engine_predict(m, x))), "freed model is rejected")

# Adam with a cosine schedule: learns, and simd and reference give identical probabilities.
adam <- lapply(c("simd", "reference"), function(backend) {
  a <- engine_create("4-8-3 tanh", input_divisor = 255, seed = 5, backend = backend)
  engine_train(a, x, y, epochs = 20L, batch_size = 10L, learning_rate = 0.01, optimizer = "adam", schedule = "cosine")
  p <- engine_predict(a, x)
  acc <- engine_evaluate(a, x, y)$accuracy
  engine_free(a)
  list(p = p, accuracy = acc)
})
check(adam[[1]]$accuracy > 0.9, sprintf("adam accuracy %g", adam[[1]]$accuracy))
check(identical(adam[[1]]$p, adam[[2]]$p), "adam: simd and reference give identical probabilities")
bad <- engine_create("4-8-3 tanh")
check(grepl("unknown optimizer", error_of(engine_train(bad, x, y, optimizer = "rmsprop"))), "unknown optimizer is rejected")
check(grepl("beta2", error_of(engine_train(bad, x, y, optimizer = "adam", beta2 = 1))), "beta2 = 1 is rejected")
engine_free(bad)

cat(sprintf("R binding tests: %d checks, %d failed\n", checks, failures))
if (failures > 0) quit(status = 1)
