"""The import rules of ARCHITECTURE.md, checked in a clean interpreter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def modules_loaded_by(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout))


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize("package", ["api_client", "api_client.models", "api_client.identity"])
def test_the_wire_contract_imports_no_ui_server_or_app(package: str) -> None:
    loaded = top_level(modules_loaded_by(f"import {package}"))
    assert not loaded & {"textual", "fastapi", "sqlalchemy", "workbench", "screens", "backend"}


def test_the_backend_never_imports_the_ui_or_the_app() -> None:
    loaded = top_level(
        modules_loaded_by("import backend.server.app, backend.hall.seed, backend.server.embedded")
    )
    assert not loaded & {"textual", "workbench", "screens"}


def core_modules() -> list[str]:
    """Every module of the Textual-free core: `workbench` less the CLI (the composition root)."""
    import pkgutil

    import workbench

    return sorted(
        info.name
        for info in pkgutil.walk_packages(workbench.__path__, "workbench.")
        if not info.name.startswith("workbench.cli")
    )


def test_the_core_loads_no_textual_and_no_backend() -> None:
    modules = core_modules()
    assert "workbench.services" in modules and "workbench.outbox" in modules
    loaded = top_level(modules_loaded_by("import " + ", ".join(modules)))
    assert not loaded & {"textual", "screens", "themes", "backend", "sqlalchemy", "fastapi"}


def lint_imports_in_a_copy(tmp_path: Path, breach: tuple[str, str] | None) -> str:
    """`lint-imports` over a copy of the packages, with one import line added to one module."""
    for package in ("workbench", "screens", "themes", "api_client", "backend"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if breach is not None:
        module, line = breach
        path = tmp_path / (module.replace(".", "/") + ".py")
        path.write_text(path.read_text() + f"\n{line}\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    return f"exit {result.returncode}\n{result.stdout}{result.stderr}"


def test_the_import_contracts_hold_and_refuse_a_screen_that_imports_the_backend(
    tmp_path: Path,
) -> None:
    assert lint_imports_in_a_copy(tmp_path / "kept", None).startswith("exit 0")
    broken = lint_imports_in_a_copy(
        tmp_path / "screen", ("screens.help", "import backend.server.app")
    )
    assert broken.startswith("exit 1")
    assert "screens is not allowed to import backend" in broken


def test_the_import_contracts_refuse_a_core_that_imports_textual(tmp_path: Path) -> None:
    broken = lint_imports_in_a_copy(tmp_path, ("workbench.outbox", "import textual.app"))
    assert broken.startswith("exit 1")
    assert "workbench is not allowed to import textual" in broken
