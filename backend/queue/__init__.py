"""Provides the queue room of the reference backend."""
