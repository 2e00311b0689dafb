"""Callbox: a self-hosted AI call center in one box."""

__version__ = "0.1.0"
