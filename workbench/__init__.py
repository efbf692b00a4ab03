"""Provides the workbench package."""
