"""Nuon app configs: the app's TOML files, their schema, file references, network kind and runbook."""
