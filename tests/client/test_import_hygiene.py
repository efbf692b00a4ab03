"""The import rules of ARCHITECTURE.md, checked in a clean interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


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
    loaded = top_level(modules_loaded_by("import backend.app, backend.seed, backend.embedded"))
    assert not loaded & {"textual", "workbench", "screens"}
