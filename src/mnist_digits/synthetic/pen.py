"""Pen strokes: templates of letters, shapes, marks and scribbles in a unit box (x right, y
down), and drawing them with a random pen, tremor and pose, as a person would on a canvas."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

Point = tuple[float, float]
Stroke = list[Point]

_SUPERSAMPLE = 2  # drawn at 2× and box-reduced: anti-aliased edges like a canvas's


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 16) -> Stroke:
    """Points along an ellipse from angle a0 to a1 (degrees; 0 = right, 90 = down)."""
    t = np.radians(np.linspace(a0, a1, n))
    return [(float(cx + rx * np.cos(a)), float(cy + ry * np.sin(a))) for a in t]


def polygon(sides: int, start: float = -90.0) -> Stroke:
    """A closed regular polygon inscribed in the unit box."""
    pts = arc(0.5, 0.5, 0.48, 0.48, start, start + 360, sides + 1)
    return pts


def star(points: int = 5) -> Stroke:
    """A closed star: alternating outer and inner radius."""
    angles = np.linspace(-90, 270, 2 * points + 1)
    radii = [0.48 if i % 2 == 0 else 0.2 for i in range(2 * points + 1)]
    return [
        (0.5 + r * float(np.cos(np.radians(a))), 0.5 + r * float(np.sin(np.radians(a))))
        for a, r in zip(angles, radii, strict=True)
    ]


def heart() -> Stroke:
    """A closed heart: two lobes meeting in a point at the bottom."""
    left = arc(0.3, 0.3, 0.22, 0.2, 150, 360, 10)
    right = arc(0.7, 0.3, 0.22, 0.2, 180, 390, 10)
    return [(0.5, 0.95), *left, *right, (0.5, 0.95)]


_ARROW_HEAD = [[(0.7, 0.3), (0.95, 0.5), (0.7, 0.7)]]
LETTERS: dict[str, list[Stroke]] = {
    "A": [[(0.05, 0.98), (0.5, 0.02), (0.95, 0.98)], [(0.25, 0.6), (0.75, 0.6)]],
    "E": [[(0.9, 0.02), (0.1, 0.02), (0.1, 0.98), (0.9, 0.98)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.9, 0.02), (0.1, 0.02), (0.1, 0.98)], [(0.1, 0.5), (0.7, 0.5)]],
    "H": [[(0.1, 0.02), (0.1, 0.98)], [(0.9, 0.02), (0.9, 0.98)], [(0.1, 0.5), (0.9, 0.5)]],
    "M": [[(0.05, 0.98), (0.1, 0.02), (0.5, 0.6), (0.9, 0.02), (0.95, 0.98)]],
    "N": [[(0.1, 0.98), (0.1, 0.02), (0.9, 0.98), (0.9, 0.02)]],
    "R": [
        [
            (0.1, 0.98),
            (0.1, 0.02),
            *arc(0.45, 0.27, 0.35, 0.25, -90, 90, 10)[1:],
            (0.2, 0.52),
            (0.9, 0.98),
        ]
    ],
    "W": [[(0.02, 0.02), (0.25, 0.98), (0.5, 0.35), (0.75, 0.98), (0.98, 0.02)]],
    "P": [[(0.1, 0.98), (0.1, 0.02), *arc(0.45, 0.27, 0.35, 0.25, -90, 90, 10)[1:], (0.1, 0.52)]],
    "h": [
        [(0.1, 0.02), (0.1, 0.98)],
        [(0.1, 0.6), *arc(0.5, 0.62, 0.35, 0.25, 180, 360, 8)[1:], (0.85, 0.98)],
    ],
    "m": [
        [(0.05, 0.98), (0.05, 0.4), *arc(0.27, 0.5, 0.22, 0.12, 180, 360, 6), (0.5, 0.98)],
        [(0.5, 0.5), *arc(0.72, 0.5, 0.22, 0.12, 180, 360, 6), (0.95, 0.98)],
    ],
    "n": [[(0.1, 0.98), (0.1, 0.35), *arc(0.5, 0.5, 0.4, 0.18, 180, 360, 8), (0.9, 0.98)]],
    "r": [[(0.15, 0.98), (0.15, 0.3)], [(0.15, 0.55), *arc(0.55, 0.5, 0.4, 0.2, 180, 300, 6)]],
    "w": [[(0.02, 0.3), (0.25, 0.98), (0.5, 0.5), (0.75, 0.98), (0.98, 0.3)]],
    "K": [[(0.1, 0.02), (0.1, 0.98)], [(0.9, 0.02), (0.12, 0.55), (0.9, 0.98)]],
    "X": [[(0.05, 0.02), (0.95, 0.98)], [(0.95, 0.02), (0.05, 0.98)]],
    "Y": [[(0.05, 0.02), (0.5, 0.5), (0.95, 0.02)], [(0.5, 0.5), (0.5, 0.98)]],
    "U": [[(0.1, 0.02), *arc(0.5, 0.6, 0.4, 0.38, 180, 0, 14)[:-1], (0.9, 0.02)]],
    # Open and angular letters (2026-12-02): of 400 held-out drawn K X Y U, the weights trained
    # on the letters above flagged every K, X and Y but read 85 of 96 U as "0", so training
    # now also sees open curves (C, J, e, t) and open corners (L, T, V). The gap of a "C" spans
    # ~90 degrees; a "0" left open when drawn gaps by far less.
    "C": [arc(0.55, 0.5, 0.45, 0.48, -45, -315, 16)],
    "J": [
        [(0.2, 0.02), (0.9, 0.02)],
        [(0.6, 0.02), (0.6, 0.75), *arc(0.35, 0.75, 0.25, 0.23, 0, 180, 8)],
    ],
    "L": [[(0.15, 0.02), (0.15, 0.98), (0.85, 0.98)]],
    "T": [[(0.05, 0.02), (0.95, 0.02)], [(0.5, 0.02), (0.5, 0.98)]],
    "V": [[(0.05, 0.02), (0.5, 0.98), (0.95, 0.02)]],
    "e": [[(0.1, 0.55), (0.9, 0.55), *arc(0.5, 0.55, 0.4, 0.42, 0, -320, 16)]],
    "t": [[(0.45, 0.02), (0.45, 0.8), (0.6, 0.98), (0.8, 0.9)], [(0.1, 0.3), (0.85, 0.3)]],
}
SHAPES: dict[str, list[Stroke]] = {
    "triangle": [polygon(3)],
    "square": [[(0.05, 0.05), (0.95, 0.05), (0.95, 0.95), (0.05, 0.95), (0.05, 0.05)]],
    "rectangle": [[(0.02, 0.25), (0.98, 0.25), (0.98, 0.75), (0.02, 0.75), (0.02, 0.25)]],
    "pentagon": [polygon(5)],
    "hexagon": [polygon(6, 0.0)],
    "diamond": [polygon(4)],
    "star": [star(5)],
    "star6": [star(6)],
    "heart": [heart()],
}
MARKS: dict[str, list[Stroke]] = {
    "tick": [[(0.05, 0.55), (0.35, 0.9), (0.95, 0.1)]],
    "cross": [[(0.1, 0.1), (0.9, 0.9)], [(0.9, 0.1), (0.1, 0.9)]],
    "plus": [[(0.5, 0.05), (0.5, 0.95)], [(0.05, 0.5), (0.95, 0.5)]],
    "hash": [
        [(0.35, 0.05), (0.3, 0.95)],
        [(0.7, 0.05), (0.65, 0.95)],
        [(0.05, 0.35), (0.95, 0.35)],
        [(0.05, 0.68), (0.95, 0.68)],
    ],
    "asterisk": [
        [(0.5, 0.05), (0.5, 0.95)],
        [(0.1, 0.25), (0.9, 0.75)],
        [(0.9, 0.25), (0.1, 0.75)],
    ],
    "arrow": [[(0.05, 0.5), (0.95, 0.5)], *_ARROW_HEAD],
    "arrow-left": [[(0.95, 0.5), (0.05, 0.5)], [(0.3, 0.3), (0.05, 0.5), (0.3, 0.7)]],
    "arrow-up": [[(0.5, 0.95), (0.5, 0.05)], [(0.3, 0.3), (0.5, 0.05), (0.7, 0.3)]],
    "arrow-down": [[(0.5, 0.05), (0.5, 0.95)], [(0.3, 0.7), (0.5, 0.95), (0.7, 0.7)]],
    "smiley": [
        arc(0.5, 0.5, 0.45, 0.45, 0, 360, 28),
        arc(0.5, 0.55, 0.25, 0.2, 20, 160, 8),
        [(0.35, 0.35), (0.36, 0.37)],
        [(0.65, 0.35), (0.66, 0.37)],
    ],
    "equals": [[(0.1, 0.35), (0.9, 0.35)], [(0.1, 0.65), (0.9, 0.65)]],
}


def scribble(rng: np.random.Generator, kind: str) -> list[Stroke]:
    """A random scribble: a wandering walk, a zigzag, waves, a coil, a spiral or hatching."""
    if kind == "walk":
        # 14+ steps: a short walk can trace a digit, and a digit must never be a negative.
        steps = rng.normal(0, 0.18, size=(int(rng.integers(14, 30)), 2)).cumsum(axis=0)
        return [[(float(x), float(y)) for x, y in steps]]
    if kind == "zigzag":
        n = int(rng.integers(6, 12))  # 6+ segments: three are a Z, a look-alike of 2
        return [[(i / n, 0.1 + 0.8 * (i % 2)) for i in range(n + 1)]]
    if kind == "wave":
        xs = np.linspace(0, 1, 40)
        cycles = rng.uniform(1.5, 4)
        return [[(float(x), 0.5 + 0.3 * float(np.sin(2 * np.pi * cycles * x))) for x in xs]]
    if kind == "coil":
        # Loops rolled along a line (a prolate cycloid), 3-5 of them: more than an 8 has.
        loops = int(rng.integers(3, 6))
        t = np.linspace(0, 2 * np.pi * loops, 30 * loops)
        step = rng.uniform(0.8, 1.4)  # advance per loop over the loop's radius
        x, y = step * loops * t / t[-1] - np.sin(t), -np.cos(t)
        return [[(float(a), float(b)) for a, b in zip(x, y, strict=True)]]
    if kind == "spiral":
        t = np.linspace(0, rng.uniform(7, 12) * np.pi, 120)  # 3.5+ turns: not a 6 or a 9
        r = 0.45 * t / t[-1]
        return [
            [
                (0.5 + float(a * np.cos(b)), 0.5 + float(a * np.sin(b)))
                for a, b in zip(r, t, strict=True)
            ]
        ]
    n = int(rng.integers(4, 9))  # hatching: parallel slanted strokes
    return [[(i / n, 0.95), (i / n + 0.3, 0.05)] for i in range(n)]


def draw(
    strokes: list[Stroke], rng: np.random.Generator, side: int, warp: float = 0.0
) -> Image.Image:
    """Strokes in a random pose, pen and tremor on a black ``side``² canvas (L, ink = 255).

    ``warp`` > 0 first bends the template by a smooth random field of that amplitude (a share of
    the template's size), so a glyph is drawn a little differently each time, as people do;
    with 0 the images are exactly those of earlier versions (no random number is drawn for it).
    """
    pts = [np.asarray(s, dtype=np.float64) for s in strokes]
    if warp > 0:
        pts = _warped(pts, rng, warp)
    allp = np.concatenate(pts)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    angle = np.radians(rng.uniform(-25, 25))
    aspect = rng.uniform(0.6, 1.4)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    lin = rot @ np.diag([aspect, 1.0]) @ np.array([[1, rng.uniform(-0.3, 0.3)], [0, 1]])
    size = rng.uniform(0.45, 0.8) * side / max(float((hi - lo).max()), 1e-3)
    centre = (lo + hi) / 2
    offset = side / 2 + rng.uniform(-0.1, 0.1, size=2) * side
    ss = _SUPERSAMPLE
    canvas = Image.new("L", (side * ss, side * ss), 0)
    pen = draw_pen(canvas, float(rng.uniform(0.025, 0.12)) * side * ss)
    for p in pts:
        p = p + rng.normal(0, 0.008, size=p.shape) * (hi - lo).max()  # tremor
        xy = ((p - centre) @ lin.T * size + offset) * ss
        pen([(float(x), float(y)) for x, y in xy])
    return canvas.reduce(ss)


def _warped(pts: list[np.ndarray], rng: np.random.Generator, warp: float) -> list[np.ndarray]:
    """Every stroke moved by one smooth field: two waves of 0.5-1.5 cycles across the template
    per axis, so nearby points move together and a corner stays a corner."""
    allp = np.concatenate(pts)
    scale = max(float((allp.max(axis=0) - allp.min(axis=0)).max()), 1e-3)
    freq = rng.uniform(0.5, 1.5, (2, 2, 1)) * rng.choice([-1, 1], (2, 2, 2))  # (axis, wave, xy)
    phase = rng.uniform(0, 2 * np.pi, (2, 2))  # (axis, wave)
    amp = rng.uniform(-warp, warp, (2, 2)) * scale  # (axis, wave)

    def move(p: np.ndarray) -> np.ndarray:  # p: (n, 2)
        waves = np.sin(2 * np.pi * np.einsum("awk,nk->naw", freq, p / scale) + phase)
        return p + (waves * amp).sum(axis=2)  # (n, 2)

    return [move(p) for p in pts]


def draw_pen(canvas: Image.Image, width: float):  # type: ignore[no-untyped-def]
    """A round pen of ``width`` px on ``canvas``: returns a function drawing one polyline."""
    ctx = ImageDraw.Draw(canvas)
    w = max(1, round(width))

    def line(xy: list[Point]) -> None:
        ctx.line(xy, fill=255, width=w, joint="curve")
        for x, y in (xy[0], xy[-1]):  # round caps
            ctx.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=255)

    return line
