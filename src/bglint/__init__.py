"""bglint: a policy linter for break-glass access in BYOC apps."""

__version__ = "0.1.0"
