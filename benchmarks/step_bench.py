"""One training step of a model, timed in fp32 and under CPU bf16 autocast, side by side.

    python benchmarks/step_bench.py [--model cnn-small] [--batch 128] [--steps 50] [--rounds 2]

Issue #14 asks cnn-small-fast for 1/30 of pytorch-example's time; the full run had 0.038, so a
step must get about 12% cheaper. bf16 helps only on CPUs with native bf16 (AMX or AVX512-BF16);
the script prints which this one has. Rounds alternate fp32 and bf16 so drift hits both.
Inputs are random: this times arithmetic, not accuracy.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from mnist_digits.models.registry import create_model
from mnist_digits.training.config import TrainConfig
from mnist_digits.training.optim import make_optimizer


def step_ms(model_name: str, batch: int, steps: int, bf16: bool) -> float:
    """Mean milliseconds of one Adam step (forward, backward, update) after 10 warm-up steps."""
    torch.manual_seed(0)
    cfg = TrainConfig(model=model_name, batch_size=batch, label_smoothing=0.1).validate()
    model = create_model(model_name).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    opt = make_optimizer(cfg, model)  # the optimiser training builds (fused Adam here)
    x = torch.randn(batch, 1, 28, 28)  # (B, 1, 28, 28)
    x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,))  # (B,)

    def step() -> None:
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x).float(), y, label_smoothing=cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn-small", help="registry name (default: cnn-small)")
    parser.add_argument("--batch", type=int, default=128, help="batch size (default: 128)")
    parser.add_argument("--steps", type=int, default=50, help="timed steps a round (default: 50)")
    parser.add_argument("--rounds", type=int, default=2, help="fp32/bf16 rounds (default: 2)")
    args = parser.parse_args()
    amx, avx512bf16 = torch.cpu._is_amx_tile_supported(), torch.cpu._is_avx512_bf16_supported()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; AMX {amx}, "
          f"AVX512-BF16 {avx512bf16}")  # fmt: skip
    for r in range(args.rounds):
        fp32 = step_ms(args.model, args.batch, args.steps, bf16=False)
        bf16 = step_ms(args.model, args.batch, args.steps, bf16=True)
        print(f"round {r + 1}: fp32 {fp32:.1f} ms, bf16 {bf16:.1f} ms a step ({bf16 / fp32:.2f}x)")


if __name__ == "__main__":
    main()
