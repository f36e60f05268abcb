"""Load: read templates and app configs into the model."""
