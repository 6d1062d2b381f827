#!/usr/bin/python3
"""Export scikit-learn's 8x8 handwritten digits as attention-network inputs.

    /usr/bin/python3 examples/digits/export_digits.py --output DIR [--patch 2] [--seed 0]

Each 8x8 image is cut into non-overlapping patch x patch squares, read row by
row; every square is one token whose features are its pixels followed by a
one-hot code of its position (N0 = patch^2 + n_tok, the positional rows
included as in docs/theory.md section 8). Pixels (0..16) are standardised with
the training split's mean and standard deviation (one scalar each), so pixel
features have unit variance like the one-hot code's unit norm.

The binary task: digits 0-4 (label +1) against digits 5-9 (label -1). With
uniform attention the network sees only the mean patch (about chance level),
while a linear classifier on all 64 pixels reaches about 90%: attention has
to pick the informative patches.

Writes X_train.npy, X_test.npy (P x n_tok x N0, float64), y_train.npy,
y_test.npy (P, +-1 float64) and meta.json, each to a temporary name renamed
into place. Uses Debian's python3-sklearn (no download: the data ships with
the package).
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np


def atomic_write(path, write):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def tokens(images, patch):
    """(P, 8, 8) -> (P, n_tok, patch^2) pixel blocks, row-major over blocks."""
    P, side = images.shape[0], images.shape[1]
    k = side // patch
    blocks = images.reshape(P, k, patch, k, patch).transpose(0, 1, 3, 2, 4)
    return blocks.reshape(P, k * k, patch * patch)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", required=True, help="folder for the NPY files")
    ap.add_argument("--patch", type=int, default=2, choices=[1, 2, 4, 8],
                    help="patch side in pixels (2: 16 tokens of 4 pixels)")
    ap.add_argument("--train", type=int, default=600, help="training examples (P)")
    ap.add_argument("--test", type=int, default=1000, help="test examples")
    ap.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
    args = ap.parse_args()

    from sklearn.datasets import load_digits

    d = load_digits()
    images = d.images.astype(np.float64)  # (1797, 8, 8), values 0..16
    labels = np.where(d.target <= 4, 1.0, -1.0)
    n = len(labels)
    if args.train < 1 or args.test < 0 or args.train + args.test > n:
        sys.exit(f"error: --train + --test: found {args.train + args.test}, expected at most {n}")
    order = np.random.default_rng(args.seed).permutation(n)
    train, test = order[: args.train], order[args.train : args.train + args.test]

    pix = tokens(images, args.patch)  # (n, n_tok, patch^2)
    n_tok = pix.shape[1]
    mean, std = pix[train].mean(), pix[train].std()
    pix = (pix - mean) / std
    position = np.broadcast_to(np.eye(n_tok), (n, n_tok, n_tok))
    X = np.concatenate([pix, position], axis=2)  # (n, n_tok, N0)

    os.makedirs(args.output, exist_ok=True)
    out = lambda name: os.path.join(args.output, name)
    for name, arr in [("X_train.npy", X[train]), ("y_train.npy", labels[train]),
                      ("X_test.npy", X[test]), ("y_test.npy", labels[test])]:
        atomic_write(out(name), lambda f, a=np.ascontiguousarray(arr): np.save(f, a))
    meta = {
        "source": "sklearn.datasets.load_digits (8x8, 1797 images)",
        "task": "digits 0-4 (+1) vs 5-9 (-1)",
        "patch": args.patch, "n_tok": int(n_tok), "N0": int(X.shape[2]),
        "features": f"{args.patch * args.patch} standardised pixels + {n_tok} one-hot position",
        "pixel_mean": float(mean), "pixel_std": float(std),
        "P_train": int(len(train)), "P_test": int(len(test)), "seed": args.seed,
        "train_positive_fraction": float((labels[train] > 0).mean()),
        "test_positive_fraction": float((labels[test] > 0).mean()),
    }
    atomic_write(out("meta.json"), lambda f: f.write((json.dumps(meta, indent=2) + "\n").encode()))
    print(f"wrote {args.output}: train {X[train].shape}, test {X[test].shape}, "
          f"positive fraction {meta['train_positive_fraction']:.3f}/{meta['test_positive_fraction']:.3f}")


if __name__ == "__main__":
    main()
