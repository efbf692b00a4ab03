"""Provides the ratings room of the reference backend."""
