"""Provides the events room of the reference backend."""
