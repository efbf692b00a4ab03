"""Start-up settings: the login screen paints from the same values the full validation reads,
and an invalid setting still ends `workbench tui` with status 2 and the field's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from screens.app import WorkbenchApp
from workbench.locations import config_file
from workbench.settings import load_settings
from workbench.startup_settings import StartupSettings

FIRST_PAINT = ("server_url", "language", "theme", "keymap", "idle_lock_minutes")


def _first_paint_values(settings: object) -> dict[str, object]:
    return {name: getattr(settings, name) for name in FIRST_PAINT}


def test_defaults_match_the_validated_settings() -> None:
    assert _first_paint_values(StartupSettings.read()) == _first_paint_values(load_settings())


@pytest.mark.parametrize(
    ("toml", "env", "overrides"),
    [
        ('server_url = "https://hall.example:8443/"\nlanguage = "zh"\n', {}, {}),
        (
            'theme = "workbench-contrast"\nidle_lock_minutes = 3\n[keymap]\ncall-next = "f2"\n',
            {"WORKBENCH_IDLE_LOCK_MINUTES": "7", "workbench_language": "zh"},
            {},
        ),
        (
            'server_url = "http://a.example"\n',
            {"WORKBENCH_SERVER_URL": "http://b.example", "WORKBENCH_KEYMAP": '{"recall": "f3"}'},
            {"server_url": "http://c.example/"},
        ),
    ],
)
def test_overrides_then_environment_then_file_as_the_full_settings_read_them(
    monkeypatch: pytest.MonkeyPatch, toml: str, env: dict[str, str], overrides: dict[str, object]
) -> None:
    config = config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(toml, encoding="utf-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    startup = StartupSettings.read(**overrides)
    assert _first_paint_values(startup) == _first_paint_values(load_settings(**overrides))
    assert _first_paint_values(load_settings(**startup.overrides)) == _first_paint_values(startup)


def test_values_that_do_not_read_keep_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_IDLE_LOCK_MINUTES", "soon")
    monkeypatch.setenv("WORKBENCH_KEYMAP", "not json")
    config = config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("language = \n", encoding="utf-8")  # not TOML
    startup = StartupSettings.read()
    assert startup.idle_lock_minutes == 10 and startup.keymap == {} and startup.language == "en"


async def test_the_login_screen_paints_then_an_invalid_setting_ends_the_app(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKBENCH_UNDO_SECONDS", "-1")
    app = WorkbenchApp(StartupSettings.read(server_url="http://127.0.0.1:9"))
    async with app.run_test() as pilot:
        assert app.screen.query_one("#server", Input).value == "http://127.0.0.1:9"
        for _ in range(100):
            if app.return_code is not None:
                break
            await pilot.pause(0.05)
    assert app.return_code == 2
    message = " ".join(capfd.readouterr().err.split())
    assert "'undo_seconds'" in message and "WORKBENCH_UNDO_SECONDS" in message


async def test_valid_settings_are_validated_after_the_first_paint(tmp_path: Path) -> None:
    app = WorkbenchApp(StartupSettings.read(server_url="http://127.0.0.1:9"))
    async with app.run_test() as pilot:
        await app.warm_up()
        await pilot.pause()
        assert app.settings.server_url == "http://127.0.0.1:9"
        assert app.startup is app.settings and app.return_code is None
