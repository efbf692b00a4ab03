"""Provides tests that the catalogue is grouped by topic and knows every key the screens name."""

from __future__ import annotations

import importlib
import pkgutil
import re
import tomllib
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import screens
from workbench.i18n import LANGUAGES, LOCALES, messages

ROOT = Path(__file__).resolve().parents[2]
LITERAL_KEY = re.compile(r"""\bt\(\s*"([a-z_][a-z0-9_.]*)"[,)]""")


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_sections_are_named_by_topic_not_by_batch(lang: str) -> None:
    with (LOCALES / f"{lang}.toml").open("rb") as handle:
        sections = [name for name, value in tomllib.load(handle).items() if isinstance(value, dict)]
    numbered = [name for name in sections if re.search(r"\d$", name)]
    assert not numbered, f"{lang}.toml has sections named by batch, not by topic: {numbered}"


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_literal_key_of_the_code_is_in_the_catalogue(lang: str) -> None:
    known = messages(lang)
    missing = {
        f"{path.relative_to(ROOT)}: {key}"
        for folder in ("screens", "workbench")
        for path in (ROOT / folder).rglob("*.py")
        for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))
        if key not in known
    }
    assert not missing, sorted(missing)


def test_every_named_binding_has_its_label_and_tooltip() -> None:
    for module in pkgutil.walk_packages(screens.__path__, "screens."):
        importlib.import_module(module.name)
    missing = set()
    stack: list[type[DOMNode]] = [DOMNode]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        for binding in cls.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.id:
                for key in (binding.description, binding.tooltip):
                    if key and key not in messages("en"):
                        missing.add(f"{cls.__name__}: {key}")
    assert not missing, sorted(missing)
