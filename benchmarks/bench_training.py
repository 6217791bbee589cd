"""ClassifierEmbedder's training against a hand-written PyTorch loop: patches per second.

Run: python benchmarks/bench_training.py [--clips 32] [--epochs 2] [--width 0.5]

Same run, same module (MobileNetV2 at ``--width``, softmax head), same batch size (64), same
optimizer (Adam) and the same 64-frame patches every 8 frames of 128-band log-mel clips of 10 s
(313 frames). The plain loop cuts all patches up front (``unfold``), shuffles them with
``randperm`` and steps through them; ClassifierEmbedder cuts them on the fly and trains with
skorch. Each side runs ``--epochs`` epochs, the first of which is a warm-up; the table reports
the best later epoch. Target: at most 10 % overhead.
"""

import argparse
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from sklearn_asd.embedders import ClassifierEmbedder
from sklearn_asd.embedders._classifier import ClassifierModule, SoftTargetLoss
from sklearn_asd.nn import LinearHead, MobileNetV2


class EpochTimer(Callback):
    def initialize(self):
        self.times = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.start = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        self.times.append(time.perf_counter() - self.start)


def plain_loop(X, targets, width, epochs, batch_size, seed):
    torch.manual_seed(seed)
    module = ClassifierModule(backbone := MobileNetV2(width), LinearHead(backbone.embedding_dim, 2))
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-4)
    criterion = SoftTargetLoss("ce")
    patches = torch.as_tensor(X).unfold(-1, 64, 8)  # (n, F, n_patches, 64)
    n_patches = patches.shape[2]
    patches = patches.permute(0, 2, 1, 3).reshape(-1, X.shape[1], 64)
    labels = torch.as_tensor(targets).repeat_interleave(n_patches)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        module.train()
        order = torch.randperm(len(patches))
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            optimizer.zero_grad()
            loss = criterion(module(patches[idx], labels[idx]), labels[idx])
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times, len(patches)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--width", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.normal(-50, 8, size=(args.clips, 128, 313)).astype(np.float32)
    y = np.repeat(["section_00", "section_01"], args.clips // 2)
    targets = np.searchsorted(np.unique(y), y)
    print(
        f"{torch.get_num_threads()} torch threads; MobileNetV2(width={args.width}), {args.clips} clips of "
        f"128 x 313, 64-frame patches every 8 frames, batch {args.batch_size}"
    )

    plain_times, n = plain_loop(X, targets, args.width, args.epochs, args.batch_size, seed=0)
    timer = EpochTimer()
    ClassifierEmbedder(
        module__width_mult=args.width,
        patch_frames=64,
        patch_hop=8,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        device="cpu",
        random_state=0,
        callbacks=[timer],
    ).fit(X, y)
    t_plain = min(plain_times[1:] or plain_times)
    t_ours = min(timer.times[1:] or timer.times)
    print(f"{'':32s}{'patches/s':>10s}")
    print(f"{'plain PyTorch loop':32s}{n / t_plain:10.1f}")
    print(f"{'ClassifierEmbedder (skorch)':32s}{n / t_ours:10.1f}")
    print(f"overhead: {100 * (t_ours / t_plain - 1):+.1f} % ({n} patches per epoch)")


if __name__ == "__main__":
    main()
