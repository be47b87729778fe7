"""People's images to MNIST's 28×28: decoding, finding the ink, rendering it as MNIST did,
and splitting a written number into digits.

May import: ``core``; numpy, scipy and Pillow. Torch-free.
"""
