"""Load: located nodes (from `parse/`) and AWS records into the model; discovery and config."""
