"""Pipeline: the only modules that wire the stages together, for `check` and for `audit`."""
