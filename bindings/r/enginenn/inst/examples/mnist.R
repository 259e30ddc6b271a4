# The original write-up's network on the bundled digits: 784 inputs -> tanh hidden layer (128) -> softmax over
# 10 digits, cross-entropy loss, L2 weight penalty, mini-batch gradient descent whose update is the average of
# the per-example gradients. Prints accuracy and per-digit sensitivity and specificity; stops with an error
# when test accuracy is below 93 %.
#   Rscript -e 'source(system.file("examples", "mnist.R", package = "enginenn"))'
library(enginenn)
epochs <- as.integer(Sys.getenv("ENGINENN_EPOCHS", "30"))
d <- engine_digits()
cat(sprintf("engine %s; %d training and %d test digits of %d pixels\n",
            engine_version(), nrow(d$x_train), nrow(d$x_test), ncol(d$x_train)))

model <- engine_create("784-128-10 tanh", input_divisor = 255, seed = 0, threads = 2L)
print(model)
started <- Sys.time()
loss <- engine_train(model, d$x_train, d$y_train, epochs = epochs, batch_size = 16L, learning_rate = 0.1,
                     l2 = 1e-4, seed = 0)
cat(sprintf("trained %d epochs in %.1f s, final mean training loss %.4f\n", epochs,
            as.numeric(Sys.time() - started, units = "secs"), loss))

result <- engine_evaluate(model, d$x_test, d$y_test)
cat(sprintf("test accuracy %.2f %%\n\n", 100 * result$accuracy))
cat("digit  sensitivity  specificity\n")
for (k in 0:9) cat(sprintf("%5d  %10.2f %%  %10.2f %%\n", k, 100 * result$sensitivity[k + 1], 100 * result$specificity[k + 1]))
cat("\nconfusion matrix (rows: true digit, columns: predicted)\n")
print(result$confusion)

predicted <- predict(model, d$x_test[1:5, , drop = FALSE], type = "class")
cat(sprintf("\nfirst 5 test digits: predicted %s, true %s\n", paste(predicted, collapse = " "),
            paste(d$y_test[1:5], collapse = " ")))
engine_free(model)
if (epochs >= 30 && result$accuracy < 0.93) stop(sprintf("test accuracy %.2f %% is below 93 %%", 100 * result$accuracy))
