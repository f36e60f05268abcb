"""CloudFormation templates: is this a template, its roles, policies, parameters and resources."""
