"""Hyper-parameter sweeps with Optuna, on one machine or shared through PostgreSQL.

Owns: the search space and its baselines (``space``), the study's storage and the recovery of
a dead worker's trials (``storage``), a worker's options (``options``), the sweep itself
(``study``: ``run_study``, the objective, the optimize loop) and what it writes (``summary``:
best.toml, plots, tune-summary.json/.md).

May import: ``core``, ``data``, ``models``, ``training``; ``optuna``, ``sqlalchemy``.
"""
