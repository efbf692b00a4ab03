"""Provides the server room of the reference backend."""
