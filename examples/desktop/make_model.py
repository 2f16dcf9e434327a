#!/usr/bin/env python3
"""Trains and saves the desktop example's model: a tiny 2-D point classifier.

Task: a point (x, y) in [-3, 3]^2 is 'core' if its distance r from the origin is below 1,
'ring' if 1 <= r < 2, 'outside' otherwise. Model: Input(2) -> Dense(16, relu) ->
Dense(16, relu) -> Dense(3, softmax), trained with Adam on 4,000 seeded random points.

Writes, beside this script:
  model.h5          the trained model, model.save(...) in the legacy HDF5 format
  points.npy        float32 [N, 2] sample points (fixed, hand-picked plus seeded random)
  keras_probs.npy   float32 [N, 3] what Keras's model.predict returned for them

Run with Keras 3 (the project uses the jax backend):
  KERAS_BACKEND=jax python examples/desktop/make_model.py
Everything is seeded; rerunning gives the same .npy files and weights.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = ("core", "ring", "outside")


def label(points):
    r = np.hypot(points[:, 0], points[:, 1])
    return np.where(r < 1.0, 0, np.where(r < 2.0, 1, 2)).astype(np.int32)


def main():
    keras.utils.set_random_seed(20240601)
    rng = np.random.default_rng(20240601)
    x = rng.uniform(-3.0, 3.0, size=(4000, 2)).astype(np.float32)
    y = label(x)

    model = keras.Sequential(
        [
            keras.Input(shape=(2,), name="point"),
            layers.Dense(16, activation="relu", name="hidden_1"),
            layers.Dense(16, activation="relu", name="hidden_2"),
            layers.Dense(len(CLASSES), activation="softmax", name="class_probs"),
        ],
        name="ring_classifier",
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=60, batch_size=64, verbose=0, shuffle=True)
    _, acc = model.evaluate(x, y, verbose=0)
    print(f"training accuracy: {acc:.4f}")

    # One clear example per class, a few near the boundaries, then seeded random points.
    fixed = np.array([[0.0, 0.0], [0.3, -0.4], [1.5, 0.0], [0.0, -1.4], [2.5, 2.5], [-2.8, 0.5],
                      [0.95, 0.0], [0.0, 2.05]], dtype=np.float32)
    extra = rng.uniform(-3.0, 3.0, size=(12, 2)).astype(np.float32)
    points = np.concatenate([fixed, extra])
    probs = model.predict(points, verbose=0).astype(np.float32)
    truth = label(points)
    print(f"sample accuracy: {np.mean(np.argmax(probs, axis=1) == truth):.3f}")

    model.save(os.path.join(HERE, "model.h5"))
    np.save(os.path.join(HERE, "points.npy"), points)
    np.save(os.path.join(HERE, "keras_probs.npy"), probs)


if __name__ == "__main__":
    main()
