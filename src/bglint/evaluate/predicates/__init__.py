"""Predicates: one function per decision a rule may name, grouped by topic, one module each.

Every module of this package is imported by `bglint.evaluate.registry.registered`; a new
topic is a new module here, registering its functions with `@predicate`.
"""
