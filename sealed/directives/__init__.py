"""Sealed V: reactive directives."""
