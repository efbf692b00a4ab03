"""Provides the cases room of the reference backend."""
