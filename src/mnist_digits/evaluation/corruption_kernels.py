"""The 15 MNIST-C corruptions (Mu & Gilmer 2019) as array code, written with numpy and scipy.

Each corruption takes a batch of MNIST images, shape (N, 28, 28) uint8 with white ink on black,
and a ``numpy.random.Generator``, and returns a corrupted batch of the same shape and dtype, at
one fixed severity (described in :data:`mnist_digits.evaluation.corruptions.SEVERITY`).
Everything runs on whole batches; per-image random parameters are drawn as arrays, never in a
Python loop over images. Callers go through ``corruptions.corrupt``, which checks the batch
and seeds the generator.

The results match MNIST-C in spirit, not pixel for pixel: the random draws, interpolation and
edge detector are our own.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SIDE = 28  # MNIST images are 28 x 28
_CENTRE = (SIDE - 1) / 2.0  # pixel-centre coordinate of the image centre, 13.5


def _to_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28) on the same 0..255 scale."""
    return images.astype(np.float32)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    """float (N, 28, 28) on 0..255 -> uint8, rounded to nearest and clipped."""
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _bilinear(x: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Sample images at real coordinates with bilinear interpolation; zero outside.

    Args:
        x: float32 images (N, H, W).
        ys: Row coordinates (N, P); pixel centres are integers.
        xs: Column coordinates (N, P).

    Returns:
        float32 samples (N, P). Integer coordinates give the pixels exactly.
    """
    n, h, w = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1))).reshape(-1)  # (N*(H+2)*(W+2),), zero border
    # Shift into padded coordinates and clamp: anything beyond the image lands on the border.
    ys = np.clip(ys + 1.0, 0.0, h + 1.0)  # (N, P)
    xs = np.clip(xs + 1.0, 0.0, w + 1.0)
    y0 = np.minimum(np.floor(ys), h).astype(np.int64)  # y0 + 1 <= h + 1 stays inside the pad
    x0 = np.minimum(np.floor(xs), w).astype(np.int64)
    fy, fx = (ys - y0).astype(np.float32), (xs - x0).astype(np.float32)
    base = (np.arange(n) * (h + 2) * (w + 2))[:, None] + y0 * (w + 2) + x0  # (N, P)
    top = padded[base] * (1 - fx) + padded[base + 1] * fx
    bottom = padded[base + w + 2] * (1 - fx) + padded[base + w + 3] * fx
    return top * (1 - fy) + bottom * fy


def _warp(x: np.ndarray, inverse: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Apply a per-image affine map about the image centre.

    Output pixel p takes its value from ``inverse @ (p - centre) + centre - offset``, so
    ``inverse`` is the inverse of the geometric transform and ``offset`` moves content by
    (+dy, +dx).

    Args:
        x: float32 images (N, H, W).
        inverse: Inverse linear maps (N, 2, 2) acting on (row, col) vectors.
        offset: Translations (N, 2) in pixels, (dy, dx).

    Returns:
        float32 warped images (N, H, W).
    """
    n, h, w = x.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)  # (H, W) each
    grid = np.stack([rows.ravel() - _CENTRE, cols.ravel() - _CENTRE])  # (2, H*W)
    src = inverse.astype(np.float32) @ grid  # (N, 2, H*W)
    src += _CENTRE - offset.astype(np.float32)[:, :, None]
    return _bilinear(x, src[:, 0], src[:, 1]).reshape(n, h, w)


def _identity(n: int) -> np.ndarray:
    """n copies of the 2 x 2 identity, (n, 2, 2)."""
    return np.broadcast_to(np.eye(2, dtype=np.float32), (n, 2, 2))


def _random_sign(rng: np.random.Generator, n: int) -> np.ndarray:
    """n independent signs, -1.0 or +1.0 with equal odds, (n,)."""
    return rng.choice(np.array([-1.0, 1.0]), size=n)


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of each image (N, H, W), zero outside so ink is not mirrored in."""
    return ndimage.gaussian_filter(x, sigma=sigma, axes=(1, 2), mode="constant")


# ----------------------------------------------------------------------------- noise


def shot_noise(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Photon (Poisson) noise: each pixel counts Poisson(60 * value / 255) photons.

    60 photons at full ink gives a relative noise of 1/sqrt(60) = 13%; black stays black.
    """
    photons = 60.0
    counts = rng.poisson(images.astype(np.float64) * (photons / 255.0))  # (N, 28, 28)
    return _to_uint8(counts * (255.0 / photons))


def impulse_noise(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Salt-and-pepper noise: 27% of pixels replaced, half by 255 (salt), half by 0 (pepper).

    On MNIST's black background only the salt shows (about 13.5% of pixels turn white).
    """
    amount = 0.27
    u = rng.random(images.shape)  # (N, 28, 28)
    out = images.copy()
    out[u < amount / 2] = 0
    out[(u >= amount / 2) & (u < amount)] = 255
    return out


# ----------------------------------------------------------------------------- blur


def glass_blur(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Frosted glass: blur (sigma 0.7), locally shuffle pixels (1 sweep, +-1 px), blur again.

    The shuffle swaps each pixel with a random neighbour, sweeping the image bottom-right to
    top-left as in ImageNet-C; every swap is done for the whole batch at once, so the Python
    loop runs 26 * 26 = 676 times whatever N is. A second sweep (tried) drags ink so far along
    the sweep that 0, 2 and 3 became blobs.
    """
    sigma, delta, sweeps = 0.7, 1, 1
    x = _blur(_to_float(images), sigma)
    n = x.shape[0]
    flat = x.reshape(n, -1)  # (N, 784) view: swaps below write through to x
    rows = np.arange(n)
    for _ in range(sweeps):
        for h in range(SIDE - 1 - delta, delta - 1, -1):
            for w in range(SIDE - 1 - delta, delta - 1, -1):
                dy, dx = rng.integers(-delta, delta + 1, size=(2, n))  # (N,) each
                here, there = h * SIDE + w, (h + dy) * SIDE + (w + dx)
                mine = flat[:, here].copy()
                flat[:, here] = flat[rows, there]
                flat[rows, there] = mine
    return _to_uint8(_blur(x, sigma))


def motion_blur(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Camera shake: average of copies shifted 0..6 px along a random direction.

    The taps are weighted exp(-k^2 / (2 * 3^2)) as in ImageMagick's one-sided motion blur
    (which MNIST-C used), so the streak fades over about 6 px; direction uniform in 0..360 deg.
    """
    radius, sigma = 6, 3.0
    x = _to_float(images)
    n = x.shape[0]
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n)  # (N,)
    step = np.stack([np.sin(angle), np.cos(angle)], axis=1)  # (N, 2) unit (dy, dx)
    weights = np.exp(-(np.arange(radius + 1) ** 2) / (2.0 * sigma**2))  # (7,)
    weights = (weights / weights.sum()).astype(np.float32)  # sums to 1: keeps total ink
    out = weights[0] * x  # tap 0 is the image itself: no warp needed
    for k in range(1, radius + 1):
        out += weights[k] * _warp(x, _identity(n), k * step)
    return _to_uint8(out)


# ----------------------------------------------------------------------------- geometry


def shear(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Horizontal shear about the centre, col' = col + s * (row - centre), |s| in [0.3, 0.5].

    At |s| = 0.5 the top and bottom of a 20 px tall digit move 5 px in opposite directions.
    """
    n = images.shape[0]
    s = _random_sign(rng, n) * rng.uniform(0.3, 0.5, size=n)  # (N,)
    inverse = np.zeros((n, 2, 2))
    inverse[:, 0, 0] = inverse[:, 1, 1] = 1.0
    inverse[:, 1, 0] = -s  # source col = col - s * row (about the centre)
    return _to_uint8(_warp(_to_float(images), inverse, np.zeros((n, 2))))


def scale(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Zoom about the centre by a factor in [0.70, 0.78] (shrink) or [1.28, 1.42] (enlarge).

    The factor is exp(+-U(0.25, 0.35)); MNIST digits fill a 20 px box, so 1.42 x 20 = 28 px
    still fits the image.
    """
    n = images.shape[0]
    log_factor = _random_sign(rng, n) * rng.uniform(0.25, 0.35, size=n)  # (N,)
    inverse = np.exp(-log_factor)[:, None, None] * np.eye(2)  # (N, 2, 2)
    return _to_uint8(_warp(_to_float(images), inverse, np.zeros((n, 2))))


def rotate(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate about the centre by 25 to 40 degrees, either way.

    Beyond about 45 degrees some digits become ambiguous (a 6 drifts towards a 9), so 40 is
    the cap.
    """
    n = images.shape[0]
    theta = _random_sign(rng, n) * np.deg2rad(rng.uniform(25.0, 40.0, size=n))  # (N,)
    c, s = np.cos(theta), np.sin(theta)
    inverse = np.stack([np.stack([c, -s], 1), np.stack([s, c], 1)], 1)  # (N, 2, 2)
    return _to_uint8(_warp(_to_float(images), inverse, np.zeros((n, 2))))


def translate(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shift by 5 px in a random direction, rounded to whole pixels (4.2 to 5.7 px).

    Whole-pixel shifts keep the strokes sharp. A 20 px digit centred in 28 px has a 4 px
    margin, so the outer 1-2 px of the digit can leave the image: up to 19% of the ink for the
    tests' synthetic digits, whose strokes reach the box edge.
    """
    n = images.shape[0]
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n)  # (N,)
    offset = np.rint(5.0 * np.stack([np.sin(angle), np.cos(angle)], axis=1))  # (N, 2)
    return _to_uint8(_warp(_to_float(images), _identity(n), offset))


# ----------------------------------------------------------------------------- appearance


def brightness(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add 0.4 of full scale (102 levels) to every pixel, clipped at 255; not random.

    The black background becomes grey 102; full ink stays 255, so contrast drops by 40%.
    """
    del rng  # deterministic, but keeps the registry's signature
    return _to_uint8(_to_float(images) + 0.4 * 255.0)


def stripe(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Invert a 3 px wide vertical band starting at a random column in 10..15.

    The band crosses the digit's middle, turning background into a white bar and ink inside
    the band black.
    """
    width = 3
    n = images.shape[0]
    start = np.asarray(rng.integers(10, 16, size=n))  # (N,)
    cols = np.arange(SIDE)[None, :]  # (1, 28)
    band = (cols >= start[:, None]) & (cols < start[:, None] + width)  # (N, 28)
    band3 = np.broadcast_to(band[:, None, :], images.shape)  # (N, 28, 28), same for every row
    return np.where(band3, 255 - images, images).astype(np.uint8)


def _fog_field(rng: np.random.Generator, n: int) -> np.ndarray:
    """Smooth random clouds in [0, 1], (n, 28, 28): 1/f^2 amplitude noise, min-max scaled.

    Made on a 56 px square and cropped so the field does not wrap around at the edges.
    """
    size = 2 * SIDE
    noise = np.fft.rfft2(rng.normal(size=(n, size, size)))  # (n, 56, 29) complex
    fy = np.fft.fftfreq(size)[:, None]  # (56, 1) cycles per pixel
    fx = np.fft.rfftfreq(size)[None, :]  # (1, 29)
    freq = np.sqrt(fy**2 + fx**2) * size  # (56, 29) cycles per field
    amplitude = np.where(freq > 0, 1.0 / np.maximum(freq, 1.0) ** 2, 0.0)  # drop the mean
    field = np.fft.irfft2(noise * amplitude, s=(size, size))[:, :SIDE, :SIDE]  # (n, 28, 28)
    low = field.min(axis=(1, 2), keepdims=True)
    high = field.max(axis=(1, 2), keepdims=True)
    return (field - low) / np.maximum(high - low, 1e-12)


def fog(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add smooth clouds of strength 1.0 and rescale, as MNIST-C's fog does.

    out = (x + fog) / 2 on a 0..1 scale: the background rises to up to 0.5 and full ink sits
    0.5 (128 levels) above its local fog. Strength 1.5 (tried) hid some 4s and 0s entirely.
    """
    strength = 1.0
    x = images.astype(np.float64) / 255.0  # (N, 28, 28)
    out = (x + strength * _fog_field(rng, x.shape[0])) / (1.0 + strength)
    return _to_uint8(out * 255.0)


def spatter(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paint drops: soft grey (180) blobs touching about 6% of the pixels.

    Blobs are where smoothed white noise (sigma 1.2 px), normalised per image, exceeds 1.6
    standard deviations; opacity ramps from 0 to 1 over the next 0.5 deviations. Measured on
    2,000 blank images: 5.7% of pixels touched, 3.4% at least half opaque.
    """
    colour, threshold, ramp = 180.0, 1.6, 0.5
    x = _to_float(images)
    field = _blur(rng.normal(size=x.shape).astype(np.float32), 1.2)  # (N, 28, 28)
    field /= field.std(axis=(1, 2), keepdims=True)
    alpha = np.clip((field - threshold) / ramp, 0.0, 1.0)  # (N, 28, 28) drop opacity
    return _to_uint8(x * (1.0 - alpha) + colour * alpha)


# ----------------------------------------------------------------------------- lines


def _random_axes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A random line through the digit area: centre (n, 2) in rows/cols 9..18, unit
    direction (n, 2) at an angle uniform in 0..180 degrees."""
    centre = rng.uniform(9.0, 18.0, size=(n, 2))  # (n, 2) (row, col)
    angle = rng.uniform(0.0, np.pi, size=n)  # (n,)
    return centre, np.stack([np.sin(angle), np.cos(angle)], axis=1)


def _draw_points(images: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Set the pixels nearest to ``points`` (N, P, 2) (row, col) to 255; off-image skipped."""
    out = images.copy()
    n, p, _ = points.shape
    pix = np.rint(points).astype(np.int64)  # (N, P, 2)
    inside = np.all((pix >= 0) & (pix < SIDE), axis=2)  # (N, P)
    which = np.broadcast_to(np.arange(n)[:, None], (n, p))  # (N, P) image index
    out[which[inside], pix[..., 0][inside], pix[..., 1][inside]] = 255
    return out


def dotted_line(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A white dashed line, 26 px long, through the digit area: 2 px dashes, 3 px gaps.

    Gaps of 3 px stay open after rounding to pixels at any angle (2 px gaps closed up at
    about 60 degrees), so the line reads as dotted.
    """
    n = images.shape[0]
    centre, direction = _random_axes(rng, n)
    t = np.arange(-13.0, 13.0, 0.25)  # (104,) positions along the line, px
    t = t[np.mod(t, 5.0) < 2.0]  # keep the dashes: 2 px on, 3 px off
    points = centre[:, None, :] + t[None, :, None] * direction[:, None, :]  # (N, P, 2)
    return _draw_points(images, points)


def zigzag(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A white zigzag through the digit area: 6 segments, 4 px apart along it, +-3 px across.

    The vertices alternate 3 px either side of a random axis, so the path turns by about 110
    degrees at each vertex; drawn as a 1 px wide connected path.
    """
    n, segments = images.shape[0], 6
    centre, direction = _random_axes(rng, n)
    normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1)  # (N, 2)
    along = 4.0 * (np.arange(segments + 1) - segments / 2)  # (7,) -12..12 px
    across = 3.0 * (-1.0) ** np.arange(segments + 1)  # (7,) +-3 px
    vertices = (
        centre[:, None, :]
        + along[None, :, None] * direction[:, None, :]
        + across[None, :, None] * normal[:, None, :]
    )  # (N, 7, 2)
    s = np.linspace(0.0, 1.0, 24, endpoint=False)[None, None, :, None]  # 24 samples / segment
    points = vertices[:, :-1, None] + s * (vertices[:, 1:, None] - vertices[:, :-1, None])
    return _draw_points(images, points.reshape(n, -1, 2))  # (N, 6*24, 2) -> drawn


# ----------------------------------------------------------------------------- edges


def _gradients(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sobel gradients (d/drow, d/dcol) of each image in (N, H, W), never mixing images."""
    deriv, smooth = np.array([-1.0, 0.0, 1.0]), np.array([1.0, 2.0, 1.0])
    gy = ndimage.correlate1d(ndimage.correlate1d(x, deriv, axis=1), smooth, axis=2)
    gx = ndimage.correlate1d(ndimage.correlate1d(x, deriv, axis=2), smooth, axis=1)
    return gy, gx


def _non_max_suppression(mag: np.ndarray, gy: np.ndarray, gx: np.ndarray) -> np.ndarray:
    """Keep pixels whose gradient magnitude is a maximum across the edge, (N, H, W) bool.

    The gradient direction is rounded to 0, 45, 90 or 135 degrees and each pixel is compared
    with its two neighbours along it.
    """
    angle = np.mod(np.rad2deg(np.arctan2(gy, gx)), 180.0)  # (N, H, W) in [0, 180)
    sector = np.rint(angle / 45.0).astype(np.int64) % 4  # 0: horizontal, 1: 45, 2: 90, 3: 135
    p = np.pad(mag, ((0, 0), (1, 1), (1, 1)))  # (N, H+2, W+2)
    h, w = mag.shape[1:]
    keep = np.zeros(mag.shape, dtype=bool)
    for k, (dy, dx) in enumerate([(0, 1), (1, 1), (1, 0), (1, -1)]):
        ahead = p[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
        behind = p[:, 1 - dy : 1 - dy + h, 1 - dx : 1 - dx + w]
        keep |= (sector == k) & (mag >= ahead) & (mag >= behind)
    return keep & (mag > 0)


def canny_edges(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Canny edge map: blur (sigma 1), Sobel, thin, then hysteresis at 20% / 40% of the peak.

    Output is binary, 255 on edges and 0 elsewhere, like MNIST-C's; thresholds are relative to
    each image's strongest gradient so faint and bold digits give alike outlines. Not random.
    """
    del rng  # deterministic, but keeps the registry's signature
    gy, gx = _gradients(_blur(images.astype(np.float64), 1.0))
    mag = np.hypot(gy, gx)  # (N, 28, 28)
    thin = _non_max_suppression(mag, gy, gx)
    peak = mag.max(axis=(1, 2), keepdims=True)  # (N, 1, 1)
    weak, strong = thin & (mag >= 0.2 * peak), thin & (mag >= 0.4 * peak)
    # Hysteresis: keep weak pixels 8-connected to a strong one. The structure only links
    # pixels within one image (its first and last planes are empty).
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True
    labels, count = ndimage.label(weak, structure=structure)
    has_strong = np.zeros(count + 1, dtype=bool)
    has_strong[labels[strong]] = True
    has_strong[0] = False  # label 0 is the background
    return np.where(has_strong[labels], 255, 0).astype(np.uint8)
