"""Reusable widgets: each composes Textual primitives and redraws from its attributes."""
