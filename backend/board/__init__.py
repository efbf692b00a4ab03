"""Provides the board room of the reference backend."""
