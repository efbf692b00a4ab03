"""Provides the API client: the typed async `Client`, the live `EventStream` and the errors.

The wire models live in `api_client.models`; the exception hierarchy in `api_client.errors`.
The names below are loaded on first use (module `__getattr__`), so that importing a submodule
such as `api_client.errors` does not pull in httpx, stamina and every wire model at once.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api_client.client import Client
    from api_client.errors import ApiError
    from api_client.event_stream import ConnectionState, EventStream, ReconnectPolicy
    from api_client.mutations import Mutation, MutationResult
    from api_client.transport import RetryPolicy, tls_context

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

_HOMES = {
    "ApiError": "api_client.errors",
    "Client": "api_client.client",
    "ConnectionState": "api_client.event_stream",
    "EventStream": "api_client.event_stream",
    "Mutation": "api_client.mutations",
    "MutationResult": "api_client.mutations",
    "ReconnectPolicy": "api_client.event_stream",
    "RetryPolicy": "api_client.transport",
    "tls_context": "api_client.transport",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
