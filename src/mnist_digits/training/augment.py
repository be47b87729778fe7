"""Augmentation of whole batches on the device: one ``grid_sample`` per batch applies a random
affine map (rotation, scale, shear, shift) and, optionally, an elastic distortion."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# At strength 1.0: rotation ±12°, scale ±10%, shear ±0.15, shift ±2.5 px. These keep every digit
# readable (a 7 never turns into a 1) while covering how people actually write.
MAX_ROTATE_DEG = 12.0
MAX_SCALE = 0.10
MAX_SHEAR = 0.15
MAX_SHIFT_PX = 2.5


def _uniform(n: int, bound: float, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    return (torch.rand(n, generator=gen, device=device) * 2 - 1) * bound  # (n,) in ±bound


def random_affine_theta(
    n: int, strength: float, gen: torch.Generator, device: torch.device
) -> torch.Tensor:
    """Random affine matrices (n, 2, 3) for ``F.affine_grid``, in normalised coordinates."""
    angle = _uniform(n, math.radians(MAX_ROTATE_DEG) * strength, gen, device)
    scale = 1 + _uniform(n, MAX_SCALE * strength, gen, device)
    shear = _uniform(n, MAX_SHEAR * strength, gen, device)
    shift = _uniform(2 * n, MAX_SHIFT_PX * strength * 2 / 28, gen, device).view(n, 2)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin + shear * cos, shift[:, 0]], 1),
            torch.stack([sin, cos + shear * sin, shift[:, 1]], 1),
        ],
        1,
    )
    return theta  # (n, 2, 3)


def elastic_offsets(
    n: int, alpha_px: float, gen: torch.Generator, device: torch.device
) -> torch.Tensor:
    """A smooth random displacement field (n, 28, 28, 2) of up to about ``alpha_px`` pixels.

    Noise on a coarse 4×4 grid, upsampled bicubically, is smooth at the scale of a stroke; it is
    far cheaper than blurring full-resolution noise with a Gaussian.
    """
    coarse = torch.rand(n, 2, 4, 4, generator=gen, device=device) * 2 - 1  # (n, 2, 4, 4)
    field = F.interpolate(coarse, size=(28, 28), mode="bicubic", align_corners=True)
    return field.permute(0, 2, 3, 1) * (alpha_px * 2 / 28)  # (n, 28, 28, 2)


def augment_batch(
    x: torch.Tensor,
    strength: float,
    elastic_px: float,
    gen: torch.Generator,
    background: float,
) -> torch.Tensor:
    """Distort a batch of normalised images x (N, 1, 28, 28) in one resampling.

    Args:
        x: normalised images.
        strength: affine strength; 0 disables it.
        elastic_px: elastic displacement in pixels; 0 disables it.
        gen: the generator that makes runs repeatable (on x's device).
        background: the contract's black level, used to fill uncovered areas.

    Returns:
        Augmented images of the same shape and memory format.
    """
    if strength <= 0 and elastic_px <= 0:
        return x
    n = x.shape[0]
    theta = random_affine_theta(n, max(strength, 0.0), gen, x.device)
    grid = F.affine_grid(theta, [n, 1, 28, 28], align_corners=False)  # (N, 28, 28, 2)
    if elastic_px > 0:
        grid = grid + elastic_offsets(n, elastic_px, gen, x.device)
    # Shift so black is 0, then zero padding fills uncovered areas with black.
    out = F.grid_sample(x - background, grid, mode="bilinear", align_corners=False)
    return (out + background).contiguous(memory_format=torch.channels_last)


def pen_width(x: torch.Tensor, share: float, gen: torch.Generator, black: float) -> torch.Tensor:
    """Redraw a ``share`` of a batch x (N, 1, 28, 28) with a fatter or thinner pen.

    Half of the chosen images are dilated by a 3×3 maximum (strokes about 2 px wider at MNIST
    scale, as a marker or a thumb draws), half eroded by a 2×2 minimum (about 1 px thinner,
    as a fine pen draws; where that would erase a stroke, half of it stays) and brought back
    to the image's full ink, since preprocessing always restores full contrast.
    """
    if share <= 0:
        return x
    z = x - black  # black is 0, ink positive
    fat = F.max_pool2d(z, 3, stride=1, padding=1)
    eroded = -F.max_pool2d(F.pad(-z, (0, 1, 0, 1), value=0.0), 2, stride=1)  # (N, 1, 28, 28)
    thin = torch.maximum(eroded, 0.5 * z)
    peak = z.amax(dim=(1, 2, 3), keepdim=True) / thin.amax(dim=(1, 2, 3), keepdim=True).clamp_min(
        1e-6
    )
    thin = thin * peak  # the image's own full ink again
    roll = torch.rand(x.shape[0], generator=gen, device=x.device)[
        :, None, None, None
    ]  # (N, 1, 1, 1)
    out = torch.where(roll < share / 2, fat, torch.where(roll < share, thin, z))
    return out + black
