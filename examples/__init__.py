"""Runnable examples: ``python -m examples.NAME`` runs one against the embedded backend."""
