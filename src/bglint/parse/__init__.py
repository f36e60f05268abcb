"""Parse: text (YAML, JSON, TOML) into located containers, and schema checks on them.

Knows no model and no CloudFormation or Nuon meaning: `load/` gives the nodes their meaning.
"""
