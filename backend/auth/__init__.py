"""Provides the auth room of the reference backend."""
