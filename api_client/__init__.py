"""Provides the api_client package."""
