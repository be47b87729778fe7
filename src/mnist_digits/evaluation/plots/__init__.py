"""Every figure of the evaluation and the report, drawn with matplotlib (Agg) and seaborn.

Each function takes plain numbers and arrays and returns a ``matplotlib.figure.Figure``;
``style.to_png`` renders one to PNG bytes. Modules: ``style`` (house style, palette, shared
drawing helpers), ``galleries`` (grids of digits: samples and predictions), ``classes`` (one bar,
row or column per class: class balance, confusion matrices, accuracy per class), ``curves``
(training history), ``trust`` (calibration, out-of-distribution confidence, corruptions) and
``inside`` (what the model computes: embedding, saliency).

May import: ``core``; matplotlib, seaborn.
"""
