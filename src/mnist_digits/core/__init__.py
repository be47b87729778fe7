"""The foundation every stage stands on: user-facing errors, atomic file writes, the input
contract, the model card a checkpoint carries, and the numpy metrics.

Owns: ``errors``, ``files``, ``contract``, ``card``, ``metrics``.
May import: the standard library, numpy and scipy; nothing else of mnist_digits (but
``mnist_digits.__version__``). Torch-free, so a serving-only install can use all of it.
"""
