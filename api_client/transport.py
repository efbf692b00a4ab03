"""Provides `Transport`, the base of `Client`: one `httpx.AsyncClient`, explicit timeouts,
TLS, bounded retries with jitter (stamina) for reads and keyed writes, errors raised as
`api_client.errors.ApiError`, and answers parsed into the contract models."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Self, TypeVar

import certifi
import httpx
import stamina
from pydantic import BaseModel, ValidationError

from api_client.errors import (
    ApiError,
    InvalidResponse,
    RateLimited,
    error_from_response,
    error_from_transport,
)
from api_client.mutations import Mutation, MutationResult, new_idempotency_key

M = TypeVar("M", bound=BaseModel)
USER_AGENT = "service-workbench-client/0.1"


def default_timeout() -> httpx.Timeout:
    """Connect quickly or give up; leave the server a little longer to answer."""
    return httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=5.0)


def tls_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """Verify certificates against the public roots, plus a hall's own CA when given."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with jitter for reads and keyed writes (`attempts=1` turns them off)."""

    attempts: int = 3
    timeout: float = 5.0
    wait_initial: float = 0.1
    wait_max: float = 1.0
    wait_jitter: float = 0.2


NO_RETRY = RetryPolicy(attempts=1)


def _retry_hook(exc: Exception) -> bool | float:
    """stamina's predicate: retry only what may succeed later; honour a short Retry-After."""
    if not isinstance(exc, ApiError) or not exc.retryable:
        return False
    if isinstance(exc, RateLimited):
        after = exc.retry_after
        return after if after is not None and after <= 5 else after is None
    return True


def query_params(**values: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        out[name] = value.isoformat() if isinstance(value, date) else str(value)
    return out


class Transport:
    """The connection and the request machinery; `Client` adds one typed method per endpoint."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: httpx.Timeout | None = None,
        ca_file: str | Path | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout or default_timeout()
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self.timeout,
            verify=tls_context(ca_file),
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying httpx client (the event stream shares its connection pool)."""
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {**self.auth_headers(), **(headers or {})}
        if content is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(
                method,
                path,
                params=params,
                content=content.encode() if content is not None else None,
                headers=all_headers,
            )
        except httpx.TransportError as exc:
            raise error_from_transport(exc, f"{method} {path}") from exc
        except httpx.HTTPError as exc:
            raise InvalidResponse(f"{method} {path}: {exc}") from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    async def _request(
        self,
        method: str,
        path: str,
        *,
        retry: bool,
        params: Mapping[str, str] | None = None,
        content: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        policy = self.retry if retry else NO_RETRY
        if policy.attempts <= 1:
            return await self._send_once(
                method, path, params=params, content=content, headers=headers
            )
        async for attempt in stamina.retry_context(
            on=_retry_hook,
            attempts=policy.attempts,
            timeout=policy.timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        ):
            with attempt:
                return await self._send_once(
                    method, path, params=params, content=content, headers=headers
                )
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    async def _get(self, model: type[M], path: str, **params: Any) -> M:
        response = await self._request("GET", path, retry=True, params=query_params(**params))
        return parse_response(model, response)

    async def send(
        self, mutation: Mutation, *, idempotency_key: str | None = None, retry: bool = True
    ) -> MutationResult:
        """Send a write with its key (a fresh one when None); retried only with a key."""
        headers = {"Idempotency-Key": idempotency_key or new_idempotency_key()}
        if mutation.if_match is not None:
            headers["If-Match"] = mutation.if_match
        response = await self._request(
            mutation.method, mutation.path, retry=retry, content=mutation.body, headers=headers
        )
        return MutationResult(
            status=response.status_code,
            body=json_or_none(response),
            replayed=response.headers.get("Idempotency-Replayed", "").lower() == "true",
        )

    async def _mutate(self, model: type[M], mutation: Mutation, key: str | None) -> M | None:
        result = await self.send(mutation, idempotency_key=key)
        if result.body is None:
            return None
        return parse_body(model, result.body)

    async def _mutate_one(self, model: type[M], mutation: Mutation, key: str | None) -> M:
        found = await self._mutate(model, mutation, key)
        if found is None:
            raise InvalidResponse(f"{mutation.method} {mutation.path}: the answer had no body.")
        return found


def json_or_none(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise InvalidResponse(f"The server's answer is not JSON ({response.url.path}).") from exc


def parse_body(model: type[M], body: Any) -> M:
    """Validate an already decoded JSON body as `model` (InvalidResponse when it does not fit)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidResponse(f"The server's answer is not a valid {model.__name__}.") from exc


def parse_response(model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise InvalidResponse(
            f"The server's answer is not a valid {model.__name__} ({response.url.path})."
        ) from exc
