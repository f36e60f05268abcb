"""Evaluate: run declarative rules over the model and produce findings."""
