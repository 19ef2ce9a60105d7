"""Experiments across runs: sweeps (Optuna), TensorBoard export, written reports."""
