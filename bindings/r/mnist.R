# The original write-up's network, run from R on this engine: 784 inputs -> tanh hidden layer -> softmax
# over 10 digits, cross-entropy loss, L2 weight penalty, mini-batch gradient descent whose update is the
# average of the per-example gradients. Trains on the bundled digits and prints accuracy and per-digit
# sensitivity and specificity. Run from the repository root after bindings/r/run.sh has built the libraries:
#   Rscript bindings/r/mnist.R
# Exits with status 1 when test accuracy is below 93 %.

source("bindings/r/engine.R")
engine_init("out/native")

read_idx <- function(path) {
  con <- gzfile(path, "rb")
  on.exit(close(con))
  magic <- readBin(con, "integer", n = 1, size = 4, endian = "big")
  rank <- bitwAnd(magic, 0xFF)
  dims <- readBin(con, "integer", n = rank, size = 4, endian = "big")
  values <- readBin(con, "integer", n = prod(dims), size = 1, signed = FALSE)
  if (rank == 1) values else matrix(values, nrow = dims[1], byrow = TRUE)
}

dir <- "data/mnist-10k"
x_train <- read_idx(file.path(dir, "train-images-idx3-ubyte.gz"))
y_train <- read_idx(file.path(dir, "train-labels-idx1-ubyte.gz"))
x_test <- read_idx(file.path(dir, "t10k-images-idx3-ubyte.gz"))
y_test <- read_idx(file.path(dir, "t10k-labels-idx1-ubyte.gz"))
cat(sprintf("engine %s; %d training and %d test digits of %d pixels\n", engine_version(), nrow(x_train), nrow(x_test), ncol(x_train)))

model <- engine_create("784-128-10 tanh", input_divisor = 255, seed = 0, threads = 2L)
started <- Sys.time()
loss <- engine_train(model, x_train, y_train, epochs = 30L, batch_size = 16L, learning_rate = 0.1, l2 = 1e-4, seed = 0)
cat(sprintf("trained 30 epochs in %.1f s, final mean training loss %.4f\n", as.numeric(Sys.time() - started, units = "secs"), loss))

result <- engine_evaluate(model, x_test, y_test)
cat(sprintf("test accuracy %.2f %%\n\n", 100 * result$accuracy))
cat("digit  sensitivity  specificity\n")
for (d in 0:9) cat(sprintf("%5d  %10.2f %%  %10.2f %%\n", d, 100 * result$sensitivity[d + 1], 100 * result$specificity[d + 1]))
cat("\nconfusion matrix (rows: true digit, columns: predicted)\n")
print(result$confusion)

p <- engine_predict(model, x_test[1:5, , drop = FALSE])
cat(sprintf("\nfirst 5 test digits: predicted %s, true %s\n",
            paste(max.col(p, ties.method = "first") - 1, collapse = " "), paste(y_test[1:5], collapse = " ")))
engine_free(model)
if (result$accuracy < 0.93) quit(status = 1)
