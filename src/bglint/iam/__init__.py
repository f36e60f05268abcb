"""Offline IAM knowledge: the action catalog and AWS-managed policy documents."""
