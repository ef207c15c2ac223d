"""Prefix rewriting: the places in an environment that name where it lives."""
