"""What the transfer dialog offers, from the real backend's windows through the desk: each
window's state, its clerk and what it serves, the ones the server would refuse last."""

from __future__ import annotations

from pathlib import Path

from backend.hall.seed import DEMO_PASSWORD
from tests.conftest import Backend, key
from workbench.services import DeskService
from workbench.settings import WorkbenchSettings
from workbench.transfer_targets import load_transfer_targets


def desk_of(backend: Backend, tmp_path: Path) -> DeskService:
    return DeskService(
        WorkbenchSettings(
            server_url=backend.base_url,
            outbox_path=tmp_path / "outbox.sqlite3",
            idle_lock_minutes=0,
        )
    )


async def test_targets_say_state_clerk_and_items_and_put_refused_windows_last(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    supervisor = await fresh_backend.login("super01")
    clerk02 = await fresh_backend.login("clerk02", "W02")
    assert (await supervisor.post("/api/v1/windows/W03/close", headers=key())).status_code == 200
    desk = desk_of(fresh_backend, tmp_path)
    await desk.login(fresh_backend.base_url, "clerk01", DEMO_PASSWORD, "W01")
    targets = await load_transfer_targets(desk, service_item="GA-001")
    codes = [t.code for t in targets]
    assert "W01" not in codes  # the desk's own window
    by_code = {t.code: t for t in targets}
    assert (by_code["W02"].open, by_code["W02"].staffed) == (True, True)
    assert by_code["W02"].serves_item == ("GA-001" in by_code["W02"].service_items)
    assert (by_code["W03"].state, by_code["W03"].open) == ("closed", False)
    assert codes[0] == "W02"  # the only open window with a clerk
    assert codes.index("W03") > max(codes.index(t.code) for t in targets if t.open)
    await desk.close()
    await clerk02.aclose()
    await supervisor.aclose()
