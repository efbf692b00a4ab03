"""Provides the runtime room of the reference backend."""
