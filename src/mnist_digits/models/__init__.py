"""Architectures, their registry, self-describing checkpoints, and the one inference function.

Owns: ``registry`` (names → builders and default recipes), ``checkpoint`` (safetensors with
the model card), ``inference`` (``infer``: batched logits for normalised images).
May import: ``core``, ``data``, ``images``; PyTorch and safetensors.
"""
