"""Problems shown by their type through the catalogue, in both languages: every problem type the
backend defines (and every failure the client names) has an English and a Chinese text, a
refusal over real HTTP reads as the catalogue says with the values it carries, and only an
unknown type falls back to the server's detail."""

from __future__ import annotations

import string
from collections.abc import Iterator

import httpx
import pytest

import backend.server.app  # noqa: F401  (loads every router, so every problem class is defined)
from api_client import Client
from api_client.errors import ApiError, error_from_response
from backend import problems
from backend.hall.seed import DEMO_PASSWORD
from tests.conftest import Backend, key
from workbench.i18n import language, messages, set_language
from workbench.problem_text import problem_kind, problem_text


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def backend_problem_kinds() -> set[str]:
    """Every problem `type` the API can answer with: each `ApiProblem` class wherever it is
    defined, and the kinds given to Starlette's own HTTP errors."""
    kinds = {problems.ApiProblem.kind}
    kinds |= {cls.kind for cls in _subclasses(problems.ApiProblem)}
    kinds |= set(problems._KINDS.values()) | {"http-error"}
    return kinds


def client_error_kinds() -> set[str]:
    return {ApiError.kind} | {cls.kind for cls in _subclasses(ApiError)}


@pytest.fixture
def chinese() -> Iterator[None]:
    before = language()
    set_language("zh")
    yield
    set_language(before)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_problem_type_has_a_text_in_both_languages(lang: str) -> None:
    kinds = backend_problem_kinds() | client_error_kinds()
    assert {"window-not-open", "transfer-window-not-open", "not-acceptable"} <= kinds
    missing = sorted(k for k in kinds if f"problem.{k}" not in messages(lang))
    assert not missing, f"problem types without a {lang} text in [problem]: {missing}"


def test_both_languages_fill_the_same_placeholders() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    en, zh = messages("en"), messages("zh")
    texts = [k for k in en if k.startswith("problem.") and not k.startswith("problem.value.")]
    for name in texts:
        assert name in zh, name
        english = {field.split("[")[0] for field in fields(en[name])}
        chinese = {field.split("[")[0] for field in fields(zh[name])}
        assert english - {"reason"} == chinese - {"reason_zh"}, name


async def refusal(response: httpx.Response) -> ApiError:
    assert response.status_code >= 400, response.text
    return error_from_response(response)


async def test_a_paused_window_reads_as_the_catalogue_says(
    fresh_backend: Backend, chinese: None
) -> None:
    clerk = await fresh_backend.login("clerk04", "W04")
    await clerk.post("/api/v1/windows/W04/pause", json={"reason": "break"}, headers=key())
    error = await refusal(await clerk.post("/api/v1/windows/W04/call-next", headers=key()))
    assert problem_kind(error) == "window-not-open"
    assert problem_text(error) == "窗口 W04 已暂停，请先恢复窗口再叫号。"
    set_language("en")
    assert problem_text(error) == "Window W04 is paused: resume it before calling."
    await clerk.aclose()


async def test_client_failures_without_a_problem_have_texts_too(chinese: None) -> None:
    async with Client("http://127.0.0.1:9", timeout=0.5) as client:
        with pytest.raises(ApiError) as unreachable:
            await client.login("clerk01", DEMO_PASSWORD, "W01")
    assert problem_kind(unreachable.value) == "network"
    assert problem_text(unreachable.value) == messages("zh")["problem.network"]


def test_an_unknown_type_falls_back_to_the_servers_detail(chinese: None) -> None:
    response = httpx.Response(
        409,
        json={
            "type": "https://service-workbench.example/problems/brand-new",
            "title": "New",
            "status": 409,
            "detail": "Something new happened.",
        },
        headers={"content-type": "application/problem+json"},
    )
    error = error_from_response(response)
    assert problem_text(error) == "Something new happened."


def test_values_are_translated_and_instants_are_in_the_halls_time(chinese: None) -> None:
    locked = error_from_response(
        httpx.Response(
            423,
            json={
                "type": "https://service-workbench.example/problems/account-locked",
                "title": "Locked",
                "status": 423,
                "detail": "Too many failed logins; the account is locked until 18:59 UTC.",
                "locked_until": "2020-12-05T18:59:00+00:00",
            },
        )
    )
    assert problem_text(locked) == "登录失败次数过多，账号已锁定至 2020-12-06 02:59。"
    merged = error_from_response(
        httpx.Response(
            409,
            json={
                "type": "https://service-workbench.example/problems/case-merged",
                "title": "Merged",
                "status": 409,
                "detail": "Case X was merged into case Y.",
                "survivor": {"id": 7, "number": "DL-ZS-20261206-000007"},
            },
        )
    )
    assert problem_text(merged) == "该办件已并入办件 DL-ZS-20261206-000007，请在该办件上继续办理。"
