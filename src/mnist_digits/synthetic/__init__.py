"""Generated images of the kinds people send: digits in fonts and pen strokes, and families of
things that are not digits (letters, shapes, marks, doodles, scribbles, symbols, textures).

Every family is marked ``train`` (training may see it) or ``heldout`` (only measurement does),
so figures on held-out families say how the reader does on kinds it never saw. Families are
rendered at phone-photo-like sizes and sent through ``images.render.to_mnist``, exactly as a
person's image would be.

May import: ``core``, ``data``, ``images``; numpy and Pillow. Torch-free.
"""
