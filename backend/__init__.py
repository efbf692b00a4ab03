"""Provides the backend package."""
