#!/usr/bin/env python3
"""Trains and saves the game example's model: a recurrent chase policy for one agent.

The world (the same integer rules as main.cpp): a 1024 x 1024 torus. An agent chases its own
target, which drifts with a constant velocity of -3..3 units per axis per frame and is visible to
the agent on only about one frame in four (always on the frame it appears). Every frame the agent
observes

    [dx/512 * visible, dy/512 * visible, visible, last_move_x, last_move_y]

(dx, dy: the wrapped offset to the target; last_move: the unit step the agent took last frame)
and picks one of four moves of 8 units: +x, -x, +y, -y. The teacher's move closes the larger
component of the true offset; between sightings the policy has to remember where the target was,
how it was drifting and where the agent itself has gone since: that is what the GRU is for. A
target is caught when both offsets are within 12 units; then a new one appears 64..256 units away.

Model: Input(shape=(64, 5)) -> GRU(32, return_sequences=True) -> Dense(4, softmax), one move
distribution per timestep, trained with Adam (30 epochs) on 8,192 seeded episodes of 64 frames in which the
agent follows the teacher three moves in four and moves at random otherwise (frames after a
catch carry no loss: in the game a catch starts a new episode with reset()).

Writes, beside this script:
  model.h5           the trained model, model.save(...) in the legacy HDF5 format
  sequences.npy      float32 [8, 64, 5] observation sequences from seeded episodes
  keras_policy.npy   float32 [8, 64, 4] what Keras's model.predict returned for them

Run with Keras 3 (the project uses the jax backend):
  KERAS_BACKEND=jax python examples/game/make_model.py
Everything is seeded; rerunning gives the same .npy inputs and weights.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240611

# World rules; main.cpp uses the same numbers.
ARENA = 1024        # torus side
HALF = ARENA // 2   # offsets are wrapped to [-512, 511] and observed divided by 512
SPEED = 8           # agent move per frame
CATCH = 12          # caught when |dx| <= 12 and |dy| <= 12
SPAWN_MIN, SPAWN_MAX = 64, 256  # new target: Chebyshev distance in [64, 256]
DRIFT = 3           # target velocity components in [-3, 3]
MOVES = np.array([[SPEED, 0], [-SPEED, 0], [0, SPEED], [0, -SPEED]], dtype=np.int64)  # +x -x +y -y
T = 64              # frames per training sequence (the model's time axis)
FEATURES = 5


def wrap(d):
    return (d + HALF) % ARENA - HALF


def teacher(dx, dy):
    """The move that closes the larger component of the offset (ties: x)."""
    along_x = np.abs(dx) >= np.abs(dy)
    return np.where(along_x, np.where(dx > 0, 0, 1), np.where(dy > 0, 2, 3)).astype(np.int32)


def spawn_offsets(rng, n):
    """n offsets uniform on the square [-256, 256]^2 outside the square of radius 64."""
    out = np.empty((n, 2), dtype=np.int64)
    filled = 0
    while filled < n:
        d = rng.integers(-SPAWN_MAX, SPAWN_MAX + 1, size=(n, 2))
        d = d[np.max(np.abs(d), axis=1) >= SPAWN_MIN]
        take = min(n - filled, len(d))
        out[filled:filled + take] = d[:take]
        filled += take
    return out


def episodes(rng, n, explore=0.25):
    """n seeded episodes of T frames: observations [n, T, 5], teacher moves [n, T], loss weights [n, T]."""
    offset = spawn_offsets(rng, n)                      # target - agent; positions only matter through it
    drift = rng.integers(-DRIFT, DRIFT + 1, size=(n, 2))
    last_move = np.zeros((n, 2), dtype=np.int64)
    alive = np.ones(n, dtype=bool)                      # no catch yet
    x = np.zeros((n, T, FEATURES), dtype=np.float32)
    y = np.zeros((n, T), dtype=np.int32)
    w = np.zeros((n, T), dtype=np.float32)
    for t in range(T):
        visible = (rng.random(n) < 0.25) | (t == 0)
        dx, dy = wrap(offset[:, 0]), wrap(offset[:, 1])
        v = visible.astype(np.float32)
        x[:, t, 0] = dx / HALF * v
        x[:, t, 1] = dy / HALF * v
        x[:, t, 2] = v
        x[:, t, 3:5] = last_move / SPEED
        y[:, t] = teacher(dx, dy)
        w[:, t] = alive
        move = np.where(rng.random(n) < explore, rng.integers(0, 4, size=n), y[:, t])
        step = MOVES[move]
        offset = wrap(offset + drift - step)
        last_move = step
        alive &= ~((np.abs(offset[:, 0]) <= CATCH) & (np.abs(offset[:, 1]) <= CATCH))
    return x, y, w


def main():
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    x, y, w = episodes(rng, 8192)

    model = keras.Sequential(
        [
            keras.Input(shape=(T, FEATURES), name="observations"),
            layers.GRU(32, return_sequences=True, name="memory"),
            layers.Dense(4, activation="softmax", name="move_probs"),
        ],
        name="chase_policy",
    )
    model.compile(optimizer=keras.optimizers.Adam(0.005), loss="sparse_categorical_crossentropy",
                  weighted_metrics=["accuracy"])
    model.fit(x, y, sample_weight=w, epochs=30, batch_size=64, verbose=2, shuffle=True)
    xt, yt, wt = episodes(rng, 1024, explore=0.25)
    _, acc = model.evaluate(xt, yt, sample_weight=wt, verbose=0)
    print(f"held-out agreement with the teacher: {acc:.4f}")
    hidden = xt[:, :, 2] == 0
    pred = np.argmax(model.predict(xt, verbose=0), axis=-1)
    mask = hidden & (wt > 0)
    print(f"  on frames where the target is hidden: {np.mean(pred[mask] == yt[mask]):.4f}")

    samples, _, _ = episodes(rng, 8)
    probs = model.predict(samples, verbose=0).astype(np.float32)

    model.save(os.path.join(HERE, "model.h5"))
    np.save(os.path.join(HERE, "sequences.npy"), samples)
    np.save(os.path.join(HERE, "keras_policy.npy"), probs)


if __name__ == "__main__":
    main()
