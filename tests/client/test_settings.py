"""Settings: defaults, environment over TOML file, WORKBENCH_CONFIG, one clear error message."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.locations import config_file
from workbench.settings import SettingsError, WorkbenchSettings, load_settings


def test_defaults_live_in_the_platform_directories(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.undo_seconds == 5 and settings.language == "en"
    assert str(settings.outbox_path).startswith(str(Path.home()))
    assert config_file().name == "config.toml"


def test_every_field_is_documented() -> None:
    for name, field in WorkbenchSettings.model_fields.items():
        assert field.description, name


def test_toml_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        'server_url = "https://hall.example:8443/"\nwindow = "W03"\nlanguage = "zh"\n'
        '[keymap]\ncall-next = "f2"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("WORKBENCH_WINDOW", "W07")
    settings = load_settings()
    assert settings.server_url == "https://hall.example:8443"
    assert settings.window == "W07" and settings.language == "zh"
    assert settings.keymap == {"call-next": "f2"}


def test_workbench_config_points_at_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "hall.toml"
    other.write_text("undo_seconds = 2.5\nidle_lock_minutes = 0\n", encoding="utf-8")
    monkeypatch.setenv("WORKBENCH_CONFIG", str(other))
    settings = load_settings()
    assert settings.undo_seconds == 2.5 and settings.idle_lock_minutes == 0


@pytest.mark.parametrize(
    ("env", "value", "field"),
    [
        ("WORKBENCH_LANGUAGE", "fr", "language"),
        ("WORKBENCH_UNDO_SECONDS", "-1", "undo_seconds"),
        ("WORKBENCH_SERVER_URL", "hall.example", "server_url"),
        ("WORKBENCH_CA_FILE", "/no/such/ca.pem", "ca_file"),
        ("WORKBENCH_KEYMAP", "not json", "keymap"),
    ],
)
def test_an_invalid_value_names_its_field(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, field: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert f"'{field}'" in str(caught.value) and env in str(caught.value)


def test_unknown_keys_and_broken_toml_are_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.toml"
    monkeypatch.setenv("WORKBENCH_CONFIG", str(config))
    config.write_text('windw = "W01"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="'windw'"):
        load_settings()
    config.write_text("undo_seconds = \n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings()
