"""Settings: defaults, JSON in LIPSYNC_CONFIG_DIR, env overrides not persisted, field metadata."""

from __future__ import annotations

import json
import os

import pytest

from editor.settings import (
    SETTINGS_SCHEMA_VERSION,
    Settings,
    check_settings_file,
    config_dir,
    load_settings,
    save_settings,
    settings_fields,
    settings_path,
)


@pytest.fixture(autouse=True)
def _config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LIPSYNC_CONFIG_DIR", str(tmp_path / "cfg"))
    for var in (
        "LIPSYNC_DEVICE",
        "LIPSYNC_DEFAULT_ENGINE",
        "LIPSYNC_AUTOSAVE",
        "LIPSYNC_WAV2LIP_CHECKPOINT",
        "LIPSYNC_RECENT_LIMIT",
        "LIPSYNC_CHUNK_CACHE_GB",
    ):
        monkeypatch.delenv(var, raising=False)


def test_defaults_without_file(tmp_path):
    assert config_dir() == tmp_path / "cfg"
    s = load_settings()
    # tests/conftest.py points LIPSYNC_CACHE_DIR at a temp dir: that env var is the override
    assert s == Settings(cache_dir=os.environ["LIPSYNC_CACHE_DIR"])
    assert s.env_overridden == ["cache_dir"]
    assert (s.default_engine, s.device, s.autosave, s.recent_projects) == (
        "auto",
        "auto",
        True,
        [],
    )
    assert not settings_path().exists()  # loading never writes


def test_save_and_load_roundtrip(tmp_path):
    s = load_settings()
    s.default_engine = "wav2lip"
    s.wav2lip_checkpoint = str(tmp_path / "wav2lip.pth")
    s.autosave = False
    s.add_recent(tmp_path / "a.lsproj")
    path = save_settings(s)
    data = json.loads(path.read_text())
    assert data["schema_version"] == SETTINGS_SCHEMA_VERSION
    assert load_settings() == s


def test_env_overrides_win_but_are_not_saved(monkeypatch):
    s = load_settings()
    s.device = "cpu"
    save_settings(s)
    monkeypatch.setenv("LIPSYNC_DEVICE", "cuda")
    monkeypatch.setenv("LIPSYNC_AUTOSAVE", "off")
    monkeypatch.setenv("LIPSYNC_RECENT_LIMIT", "3")
    s = load_settings()
    assert (s.device, s.autosave, s.recent_limit) == ("cuda", False, 3)
    assert s.env_overridden == ["autosave", "cache_dir", "device", "recent_limit"]
    s.default_engine = "wav2lip"
    save_settings(s)
    data = json.loads(settings_path().read_text())
    assert (data["device"], data["autosave"], data["default_engine"]) == ("cpu", True, "wav2lip")


def test_invalid_values_fall_back_and_are_reported(monkeypatch):
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text(
        json.dumps({"device": "tpu", "recent_limit": "many", "autosave": False, "colour": "red"})
    )
    monkeypatch.setenv("LIPSYNC_DEFAULT_ENGINE", "magic")
    s = load_settings()
    assert (s.device, s.recent_limit, s.autosave, s.default_engine) == (
        "auto",
        10,
        False,
        "auto",
    )
    problems = check_settings_file()
    assert len(problems) == 3 and all("settings.json" in p for p in problems)
    assert any("device" in p and "tpu" in p for p in problems)
    settings_path().write_text("{not json")
    assert load_settings().device == "auto"
    assert "not readable JSON" in check_settings_file()[0]


def test_the_chunk_cache_size_is_a_setting_in_whole_gigabytes(monkeypatch):
    from lipcore.render.chunks import CHUNK_CACHE_BYTES

    assert load_settings().chunk_cache_gb == CHUNK_CACHE_BYTES >> 30 == 4
    monkeypatch.setenv("LIPSYNC_CHUNK_CACHE_GB", "20")
    assert load_settings().chunk_cache_gb == 20
    monkeypatch.setenv("LIPSYNC_CHUNK_CACHE_GB", "0")  # below the minimum: the default, reported
    assert load_settings().chunk_cache_gb == 4
    field = {f.name: f for f in settings_fields()}["chunk_cache_gb"]
    assert field.kind == "int" and "GB" in field.label


def test_fields_describe_a_preferences_dialog():
    fields = {f.name: f for f in settings_fields()}
    assert "schema_version" not in fields and "recent_projects" not in fields
    engine = fields["default_engine"]
    assert engine.label == "Default engine" and engine.kind == "choice"
    assert (
        engine.choices == ("auto", "retime", "oneshot", "wav2lip")
        and engine.env_var == "LIPSYNC_DEFAULT_ENGINE"
    )
    assert fields["autosave"].kind == "bool" and fields["wav2lip_checkpoint"].kind == "file"
    assert fields["cache_dir"].kind == "folder"
    assert all(f.help for f in fields.values())


def test_newer_settings_file_keeps_unknown_keys_when_saved():
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text(
        json.dumps({"schema_version": 7, "device": "cpu", "future_option": {"a": 1}})
    )
    s = load_settings()
    assert s.device == "cpu"
    s.autosave = False
    save_settings(s)
    data = json.loads(settings_path().read_text())
    assert data["future_option"] == {"a": 1} and data["schema_version"] == 7
    assert data["autosave"] is False
