"""Training of the networks against a hand-written PyTorch loop at equal work: items per second.

Run: python benchmarks/bench_training.py [--clips 32] [--epochs 4] [--width 0.5]

Two pairs, each in the same run, same module, loss, optimizer, batch size and items:

- ``ClassifierEmbedder`` (MobileNetV2 at ``--width``, softmax head, batch 64) against a plain loop
  over the same 64-frame patches every 8 frames of 128-band log-mel clips of 10 s (313 frames),
  which it cuts up front with ``unfold`` and steps through in ``randperm`` order;
- ``AutoEncoderDetector`` (the DCASE baseline's 640-128x4-8 network, batch 512, MSE) against a
  plain loop over the same stacked-frame vectors.

Each side runs ``--epochs`` epochs ``--rounds`` times, the order alternating between rounds,
the first epoch of each run a warm-up; the table reports the best later epoch (min) and the
median. Pitfalls this script avoids, each of which once skewed its figure:
``sklearn_asd`` is imported before torch (it asks OpenMP for passive waiting, read when torch
loads; imported after, both sides spin and run 6-8x slower on a busy machine); the embedder's
held-out clips are switched off (``validation_fraction=None``), and a callback counts the items
each side trains on, which must be equal (a 10 % hold-out once inflated our rate by 14 %).
Target: within 5 % of the plain loop.
"""

# isort: off
import sklearn_asd  # noqa: F401  (before torch: see the docstring)

# isort: on
import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from sklearn_asd.detectors import AutoEncoderDetector  # noqa: E402
from sklearn_asd.detectors._autoencoder import OutlierExposureLoss, dense_autoencoder  # noqa: E402
from sklearn_asd.embedders import ClassifierEmbedder  # noqa: E402
from sklearn_asd.embedders._classifier import ClassifierModule, SoftTargetLoss  # noqa: E402
from sklearn_asd.features._framing import stack_frames  # noqa: E402
from sklearn_asd.nn import LinearHead, MobileNetV2  # noqa: E402


class EpochTimer(Callback):
    """Each epoch's wall time and the items it trained on."""

    def initialize(self):
        self.times, self.items = [], []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.start, self.count = time.perf_counter(), 0

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self.count += len(batch[0])

    def on_epoch_end(self, net, **kwargs):
        self.times.append(time.perf_counter() - self.start)
        self.items.append(self.count)


def plain_epochs(module, criterion, loss_args, X, y, epochs, batch_size, lr, seed):
    """A hand-written loop: Adam, ``randperm`` order, slices of tensors; (times, items per epoch)."""
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        module.train()
        order = torch.randperm(len(X))
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            optimizer.zero_grad()
            loss = criterion(*loss_args(module, X[idx], y[idx]))
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times, len(X)


def classifier_pair(args):
    rng = np.random.default_rng(0)
    X = rng.normal(-50, 8, size=(args.clips, 128, 313)).astype(np.float32)
    y = np.repeat(["section_00", "section_01"], args.clips // 2)
    targets = torch.as_tensor(np.searchsorted(np.unique(y), y))
    patches = torch.as_tensor(X).unfold(-1, 64, 8)  # (n, F, n_patches, 64)
    n_patches = patches.shape[2]
    patches = patches.permute(0, 2, 1, 3).reshape(-1, X.shape[1], 64).contiguous()
    labels = targets.repeat_interleave(n_patches)

    def plain():
        torch.manual_seed(0)
        backbone = MobileNetV2(args.width)
        module = ClassifierModule(backbone, LinearHead(backbone.embedding_dim, 2))
        loss = SoftTargetLoss("ce")
        return plain_epochs(
            module, loss, lambda m, xb, yb: (m(xb, yb), yb), patches, labels, args.epochs, 64, 1e-4, 0
        )

    def ours():
        timer = EpochTimer()
        ClassifierEmbedder(
            module__width_mult=args.width,
            patch_frames=64,
            patch_hop=8,
            validation_fraction=None,
            max_epochs=args.epochs,
            batch_size=64,
            device="cpu",
            random_state=0,
            callbacks=[timer],
        ).fit(X, y)
        return timer

    return ("ClassifierEmbedder (MobileNetV2 patches)", *alternate(plain, ours, args.rounds))


def autoencoder_pair(args):
    rng = np.random.default_rng(0)
    S = rng.normal(-50, 8, size=(args.clips, 128, 313)).astype(np.float32)
    vectors = torch.as_tensor(stack_frames(S, 5).reshape(-1, 640).copy())
    flags = torch.zeros(len(vectors))

    def plain():
        torch.manual_seed(0)
        loss = OutlierExposureLoss()
        return plain_epochs(
            dense_autoencoder(640),
            loss,
            lambda m, xb, yb: (m(xb), xb, yb.bool()),
            vectors,
            flags,
            args.epochs,
            512,
            1e-3,
            0,
        )

    def ours():
        timer = EpochTimer()
        AutoEncoderDetector(max_epochs=args.epochs, device="cpu", random_state=0, callbacks=[timer]).fit(S)
        return timer

    return ("AutoEncoderDetector (frame vectors)", *alternate(plain, ours, args.rounds))


def alternate(plain, ours, rounds):
    """Both sides ``rounds`` times, the order swapped each round (the machine's speed drifts:
    on these 2 cores whichever runs second was up to 20 % faster or slower); every epoch after
    each run's warm-up is kept. Returns (plain epoch times, items, an EpochTimer of ours)."""
    plain_times, ours_timer, n = [], EpochTimer().initialize(), None
    for r in range(rounds):
        for side in (plain, ours) if r % 2 == 0 else (ours, plain):
            if side is plain:
                times, n = plain()
                plain_times += times[1:] or times
            else:
                timer = side()
                ours_timer.times += timer.times[1:] or timer.times
                ours_timer.items += timer.items
    return plain_times, n, ours_timer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--width", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side, the order alternating")
    args = parser.parse_args(argv)
    setting = (
        f"{args.clips} clips of 128 x 313; {args.rounds} x {args.epochs} epochs, each run's first a warm-up"
    )
    print(f"{torch.get_num_threads()} torch threads; {setting}")
    columns = ("items/epoch", "plain min s", "ours min s", "plain med", "ours med", "ratio")
    print(f"{'':44s}" + "".join(f"{c:>12s}" for c in columns))
    for pair in (autoencoder_pair, classifier_pair):
        name, plain, n, timer = pair(args)
        if set(timer.items) != {n}:
            raise SystemExit(
                f"{name}: trained on {sorted(set(timer.items))} items an epoch, the plain loop on {n}"
            )
        later_plain, later_ours = plain, timer.times  # warm-up epochs already left out
        ratio = min(later_ours) / min(later_plain)
        print(
            f"{name:44s}{n:12d}{min(later_plain):12.3f}{min(later_ours):12.3f}"
            f"{np.median(later_plain):12.3f}{np.median(later_ours):12.3f}{ratio:12.3f}"
        )
    print("ratio: ours / plain loop, min over the later epochs (1.05 = 5 % overhead)")


if __name__ == "__main__":
    main()
