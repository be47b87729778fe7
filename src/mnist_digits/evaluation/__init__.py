"""Judging a trained model: the full evaluation of a checkpoint, corruptions, explanations,
plots and the HTML/Markdown report.

May import: ``core``, ``data``, ``images``, ``models``, ``training``; matplotlib.
"""
