"""Canonical schemas: loading, the model, and the rules they must satisfy."""
