"""GCP and Azure: the roles Nuon binds for them, and what those roles can do."""
