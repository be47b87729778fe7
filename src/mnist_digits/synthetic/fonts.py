"""The font files a family may use, split by font family into training and held-out sets.

Training draws printed digits and symbols from the ``TRAIN`` families only; the ``HELDOUT``
families (other designers, a script face, a comic hand) are kept for measuring how printed
text in an unseen typeface is read. The set-up installs both from Debian's font packages.
"""

from __future__ import annotations

import functools
from pathlib import Path

FONT_ROOTS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/opentype"))
# Matched against the file name, lower case. Symbol and maths faces draw no letters or digits.
TRAIN = ("dejavu", "liberation", "free", "roboto", "lato", "opensans")
HELDOUT = ("nimbus", "c059", "p052", "urwbookman", "urwgothic", "z003", "comicneue", "carlito")
_SKIP = ("math", "d050000l", "standardsymbols", "dingbats")


def _key(path: Path) -> str:
    return path.name.lower().replace("-", "").replace("_", "")


@functools.cache
def font_files(split: str) -> tuple[Path, ...]:
    """Scalable font files of the ``train`` or ``heldout`` families installed here, sorted."""
    prefixes = TRAIN if split == "train" else HELDOUT
    found = sorted(
        p
        for root in FONT_ROOTS
        if root.is_dir()
        for p in root.rglob("*")
        if p.suffix.lower() in (".ttf", ".otf")
        and _key(p).startswith(prefixes)
        and not any(s in _key(p) for s in _SKIP)
    )
    return tuple(found)
