#!/usr/bin/env python3
"""Models made elsewhere, imported into the engine, end to end through the command line.

- A PyTorch MLP (x / 255 in front, Linear + ReLU twice, Linear, Softmax) trained in PyTorch on the bundled digits,
  exported with torch.onnx.export at opsets 9, 13 and 17, and a variant taking [batch, 1, 28, 28] images through
  nn.Flatten: `engine import` then `engine predict` on the bundled test digits gives PyTorch's classes and
  probabilities within 1e-5; `engine train --init MODEL.onnx` continues training from the imported weights.
- The same network's state_dict written as safetensors by tools/state_dict_to_safetensors.py and imported with
  `engine import W.safetensors --activation relu --scale 255` predicts the same; an engine model's weights exported
  with `engine export --safetensors` load into PyTorch's nn.Sequential with load_state_dict and predict the same.
- A model written with onnx.helper in the Keras/tf2onnx form (MatMul + Add, Tanh, logits at the end) gives NumPy's
  softmax of the same arithmetic within 1e-5.
- A PyTorch model with a Conv2d is refused with one line naming the node and its op, and exit code 1.

    python3 conformance/pytorch/check_import.py [path/to/engine.dll]

Needs NumPy, PyTorch and onnx (Debian: python3-numpy, python3-torch, python3-onnx). Ends with
"pytorch import checks: N checks, M failed"; exits 1 on any failure.
"""
import gzip
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "src/Engine.Cli/bin/Release/net10.0/engine.dll")
DATA = os.path.join(ROOT, "data", "mnist-10k")
TOLERANCE = 1e-5
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")


def idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def engine(*args):
    return subprocess.run(["dotnet", ENGINE, *args], capture_output=True, text=True)


def engine_probabilities(model_path, tmp):
    """The engine's probabilities for the bundled test digits, (n, 10), from `engine predict --out`."""
    out = os.path.join(tmp, "predictions.csv")
    run = engine("predict", "--model", model_path, "--out", out)
    if run.returncode != 0:
        raise RuntimeError(run.stderr.strip() or run.stdout.strip())
    rows = np.loadtxt(out, delimiter=",", skiprows=1, dtype=np.float64)
    return rows[:, 2:12]


class Scale(torch.nn.Module):
    """x / 255 as the first op, exported as Div by a constant: the engine takes it as the model's input scaling."""

    def forward(self, x):
        return x / 255.0


def train_torch(model, x, y, epochs=2):
    torch.manual_seed(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(epochs):
        for start in range(0, len(x), 64):
            optimizer.zero_grad()
            logits = model[:-1](x[start:start + 64])  # without the final Softmax
            torch.nn.functional.cross_entropy(logits, y[start:start + 64]).backward()
            optimizer.step()
    return model


def compare(name, expected, got):
    diff = float(np.max(np.abs(expected - got)))
    same_classes = bool(np.all(expected.argmax(axis=1) == got.argmax(axis=1)))
    check(name, diff <= TOLERANCE and same_classes, f"max |engine - reference| = {diff:.2e} (tolerance {TOLERANCE:.0e}), classes {'equal' if same_classes else 'DIFFER'}")


def main():
    x_train = torch.from_numpy(idx("train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32))
    y_train = torch.from_numpy(idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    x_test = idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32)

    torch.manual_seed(1)
    mlp = torch.nn.Sequential(Scale(), torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32), torch.nn.ReLU(),
                              torch.nn.Linear(32, 10), torch.nn.Softmax(dim=1))
    train_torch(mlp, x_train, y_train)
    mlp.eval()
    with torch.no_grad():
        expected = mlp(torch.from_numpy(x_test)).numpy().astype(np.float64)

    with tempfile.TemporaryDirectory() as tmp:
        for opset in (9, 13, 17):
            onnx_path, model_path = os.path.join(tmp, f"mlp{opset}.onnx"), os.path.join(tmp, f"mlp{opset}.model")
            torch.onnx.export(mlp, torch.zeros(1, 784), onnx_path, input_names=["x"], output_names=["p"],
                              dynamic_axes={"x": {0: "batch"}, "p": {0: "batch"}}, opset_version=opset)
            run = engine("import", onnx_path, "--out", model_path)
            if run.returncode != 0:
                check(f"torch.onnx.export opset {opset}: import", False, (run.stderr or run.stdout).strip())
                continue
            compare(f"torch.onnx.export opset {opset}: probabilities on 2,000 test digits", expected, engine_probabilities(model_path, tmp))

        # The same weights as a state_dict, through tools/state_dict_to_safetensors.py (no safetensors package needed).
        pt_path, st_path, model_path = (os.path.join(tmp, n) for n in ("mlp.pt", "mlp.safetensors", "st.model"))
        torch.save(mlp.state_dict(), pt_path)
        tool = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "state_dict_to_safetensors.py"), pt_path, st_path],
                              capture_output=True, text=True)
        run = engine("import", st_path, "--activation", "relu", "--scale", "255", "--out", model_path) if tool.returncode == 0 else tool
        if run.returncode == 0:
            compare("state_dict -> safetensors -> engine import: probabilities", expected, engine_probabilities(model_path, tmp))
        else:
            check("state_dict -> safetensors -> engine import", False, (run.stderr or run.stdout).strip())

        # And out again: an engine model's weights as safetensors load into PyTorch's nn.Sequential and agree.
        out_path = os.path.join(tmp, "engine.safetensors")
        run = engine("export", "--model", os.path.join(tmp, "mlp13.model"), "--safetensors", out_path)
        if run.returncode == 0:
            with open(out_path, "rb") as f:
                raw = f.read()
            n = int.from_bytes(raw[:8], "little")
            import json
            header = json.loads(raw[8:8 + n])
            state = {k: torch.from_numpy(np.frombuffer(raw, np.float32, int(np.prod(v["shape"])), 8 + n + v["data_offsets"][0]).reshape(v["shape"]).copy())
                     for k, v in header.items() if k != "__metadata__"}
            sequential = torch.nn.Sequential(torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
            sequential.load_state_dict(state)
            with torch.no_grad():
                again = torch.softmax(sequential(torch.from_numpy(x_test) / 255.0), dim=1).numpy().astype(np.float64)
            compare("engine export --safetensors -> nn.Sequential.load_state_dict: probabilities", again, engine_probabilities(os.path.join(tmp, "mlp13.model"), tmp))
        else:
            check("engine export --safetensors", False, (run.stderr or run.stdout).strip())

        # Images in, flattened by nn.Flatten (same weights).
        images = torch.nn.Sequential(torch.nn.Flatten(), *mlp)
        onnx_path, model_path = os.path.join(tmp, "images.onnx"), os.path.join(tmp, "images.model")
        torch.onnx.export(images, torch.zeros(1, 1, 28, 28), onnx_path, input_names=["x"], output_names=["p"],
                          dynamic_axes={"x": {0: "batch"}, "p": {0: "batch"}}, opset_version=13)
        run = engine("import", onnx_path, "--out", model_path)
        if run.returncode == 0:
            compare("nn.Flatten of [batch, 1, 28, 28] images: probabilities", expected, engine_probabilities(model_path, tmp))
        else:
            check("nn.Flatten of [batch, 1, 28, 28] images: import", False, (run.stderr or run.stdout).strip())

        # Training continues in the engine from the imported weights.
        run = engine("train", "--init", os.path.join(tmp, "mlp13.onnx"), "--epochs", "1", "--lr", "0.05", "--threads", "1")
        accuracy = [line for line in run.stdout.splitlines() if line.startswith("test set")]
        ok = run.returncode == 0 and accuracy and float(accuracy[0].split("accuracy ")[1].split(" %")[0]) >= 85
        check("engine train --init the imported model", bool(ok), accuracy[0] if accuracy else (run.stderr or run.stdout).strip()[-200:])

        # onnx.helper, Keras/tf2onnx form: MatMul + Add, Tanh, logits out.
        import onnx
        from onnx import helper, numpy_helper, TensorProto
        rng = np.random.default_rng(3)
        w1, b1 = rng.normal(0, 0.05, (784, 32)).astype(np.float32), rng.normal(0, 0.1, 32).astype(np.float32)
        w2, b2 = rng.normal(0, 0.3, (32, 10)).astype(np.float32), rng.normal(0, 0.1, 10).astype(np.float32)
        nodes = [helper.make_node("Div", ["x", "divisor"], ["scaled"]),
                 helper.make_node("MatMul", ["scaled", "dense/kernel"], ["m1"]), helper.make_node("Add", ["m1", "dense/bias"], ["z1"]),
                 helper.make_node("Tanh", ["z1"], ["a1"]),
                 helper.make_node("MatMul", ["a1", "out/kernel"], ["m2"]), helper.make_node("Add", ["m2", "out/bias"], ["logits"])]
        graph = helper.make_graph(nodes, "keras_style", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 784])],
                                  [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
                                  [numpy_helper.from_array(np.array(255, np.float32), "divisor"),
                                   numpy_helper.from_array(w1, "dense/kernel"), numpy_helper.from_array(b1, "dense/bias"),
                                   numpy_helper.from_array(w2, "out/kernel"), numpy_helper.from_array(b2, "out/bias")])
        keras = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        onnx.checker.check_model(keras)
        onnx_path, model_path = os.path.join(tmp, "keras.onnx"), os.path.join(tmp, "keras.model")
        onnx.save(keras, onnx_path)
        run = engine("import", onnx_path, "--out", model_path)
        if run.returncode == 0:
            z = np.tanh((x_test / np.float32(255)) @ w1 + b1) @ w2 + b2
            z = z.astype(np.float64)
            p = np.exp(z - z.max(axis=1, keepdims=True))
            compare("onnx.helper MatMul + Add, tanh, logits: probabilities", p / p.sum(axis=1, keepdims=True), engine_probabilities(model_path, tmp))
        else:
            check("onnx.helper MatMul + Add: import", False, (run.stderr or run.stdout).strip())

        # A convolution is refused in one line that names the node and its op.
        conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(2 * 26 * 26, 10))
        onnx_path = os.path.join(tmp, "conv.onnx")
        torch.onnx.export(conv, torch.zeros(1, 1, 28, 28), onnx_path, input_names=["x"], output_names=["logits"], opset_version=13)
        run = engine("import", onnx_path, "--out", os.path.join(tmp, "conv.model"))
        message = run.stderr.strip()
        check("a Conv2d model is refused", run.returncode == 1 and "(Conv)" in message and "\n" not in message
              and not os.path.exists(os.path.join(tmp, "conv.model")), message)

    failed = results.count(False)
    print(f"pytorch import checks: {len(results)} checks, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
