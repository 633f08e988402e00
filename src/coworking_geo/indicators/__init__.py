"""Fibre, commuting and access per commune, and their join."""
