"""Regenerates the initial migration from the schema (only while nothing has been released).

Run `python -m backend.db.regenerate` after changing `backend/db/schema.py`. Once a release has
shipped, add a new migration instead (`backend.db.migrate.autogenerate`, then review it, as
`0002` was).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

from backend.db.engine import make_engine
from backend.db.migrate import autogenerate

INITIAL = "0001"


def regenerate() -> Path:
    versions = Path(str(files("backend") / "migrations" / "versions"))
    for old in versions.glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        autogenerate(make_engine(f"sqlite:///{tmp}/empty.db"), "initial schema")
    (generated,) = versions.glob("*.py")
    text = generated.read_text()
    revision = re.search(r"revision = '([0-9a-f]+)'", text)
    assert revision is not None
    text = text.replace(revision.group(1), INITIAL)
    text = re.sub(r"Create Date: .*\n", "", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = text.replace(
        "backend.db.schema.UtcDateTime(timezone=True)", "sa.DateTime(timezone=True)"
    )
    target = versions / f"{INITIAL}_initial_schema.py"
    target.write_text(text)
    generated.unlink()
    for command in (["format", "-q"], ["check", "--fix", "-q"]):
        subprocess.run([sys.executable, "-m", "ruff", *command, str(target)], check=False)
    return target


if __name__ == "__main__":
    print(regenerate())
