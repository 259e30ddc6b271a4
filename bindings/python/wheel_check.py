"""The check of an installed engine_nn wheel, run from outside the checkout by the wheel test and by
tools/check-packages.sh: the library comes from the installation, trains on uint8 and float64 images, and the
scikit-learn estimator passes check_estimator. Prints "wheel ok VERSION ACCURACY ISA"."""
import os, sys, numpy as np, engine_nn
from engine_nn.sklearn import EngineClassifier
from sklearn.utils.estimator_checks import check_estimator
assert engine_nn.library_path().startswith(sys.prefix), engine_nn.library_path()
assert os.path.isfile(os.path.join(os.path.dirname(engine_nn.__file__), "py.typed")), "the wheel lacks py.typed"
rng = np.random.default_rng(0)
y = np.arange(400) % 4
images = rng.integers(0, 90, size=(400, 16), dtype=np.uint8)
images[np.arange(400), y * 4] = 250
for x in (images, images.astype(np.float64)):
    with engine_nn.Model.create("16-12-4 relu", input_divisor=255, seed=2) as m:
        m.train(x, y, epochs=30, batch_size=20, optimizer="adam", learning_rate=0.01)
        accuracy = float((m.predict(x) == y).mean())
        assert accuracy > 0.95, accuracy
check_estimator(EngineClassifier())
print("wheel ok", engine_nn.__version__, accuracy, engine_nn.instruction_set())
