"""Hyper-parameter sweeps with Optuna, on one machine or shared through PostgreSQL.

May import: ``core``, ``data``, ``models``, ``training``.
"""
