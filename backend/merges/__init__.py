"""Provides the merges room of the reference backend."""
