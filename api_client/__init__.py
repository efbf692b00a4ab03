"""Provides the API client: the typed async `Client`, the live `EventStream` and the errors.

The wire models live in `api_client.models`; the exception hierarchy in `api_client.errors`.
"""

from api_client.client import Client, Mutation, MutationResult, RetryPolicy, tls_context
from api_client.errors import ApiError
from api_client.event_stream import ConnectionState, EventStream, ReconnectPolicy

__all__ = [
    "ApiError",
    "Client",
    "ConnectionState",
    "EventStream",
    "Mutation",
    "MutationResult",
    "ReconnectPolicy",
    "RetryPolicy",
    "tls_context",
]
