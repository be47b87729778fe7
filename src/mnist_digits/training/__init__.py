"""Training: the typed config, the loop on whole tensors, batch augmentation, torchrun,
calibration, and the run folder that ties them into one straight line.

May import: ``core``, ``data``, ``images``, ``models``; PyTorch.
"""
