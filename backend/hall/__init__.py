"""Provides the hall room of the reference backend."""
