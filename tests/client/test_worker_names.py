"""Every Textual worker of the screens has a name in both catalogues (`work.<name>`): a failed
worker is reported as "<what> failed", and its function's name must never reach the screen.

The screens' source is read with `ast` (Textual is not imported): a function decorated with
`@work` (or `@work(...)`) is a worker named after the function, or its `name=` when given."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from workbench.i18n import messages

SCREENS = Path(__file__).resolve().parents[2] / "screens"


def _is_work(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name):
        return target.id == "work"
    return isinstance(target, ast.Attribute) and target.attr == "work"


def _name(function: ast.FunctionDef | ast.AsyncFunctionDef, decorator: ast.expr) -> str:
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
    return function.name


def worker_names() -> dict[str, str]:
    """Worker name -> where it is defined (the first place)."""
    found: dict[str, str] = {}
    for path in sorted(SCREENS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                if _is_work(decorator):
                    found.setdefault(_name(node, decorator), f"{path.name}:{node.lineno}")
    return found


def test_the_screens_have_workers_to_check() -> None:
    assert {"call_next_ticket", "load_case", "move_ticket"} <= set(worker_names())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_worker_has_a_name_in_the_catalogue(lang: str) -> None:
    catalogue = messages(lang)
    missing = {
        name: where for name, where in worker_names().items() if f"work.{name}" not in catalogue
    }
    assert not missing, f"workers without work.<name> in {lang}.toml: {missing}"
