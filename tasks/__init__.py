"""Datasets, tokenizers, the training engine, metrics and sampling; one module per task.

Nothing here imports textual, and importing this package does not load torch.
"""
