"""Verified MNIST and Fashion-MNIST: sources, the cache, IDX files, whole-array loading, the
train/validation split, dataset figures and a Pillow preview sheet.

May import: ``core``; numpy and Pillow (PyTorch only lazily, for ``normalized_tensors``).
"""
