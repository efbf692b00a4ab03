"""Provides the database layer: schema, engine and the executors that run queries."""
