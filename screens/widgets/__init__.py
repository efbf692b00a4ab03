"""Provides the widgets the workbench screens are built from."""
