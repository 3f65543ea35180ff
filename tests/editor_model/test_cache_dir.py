"""The "Cache folder" setting reaches lipcore's cache before any derived data is computed."""

from __future__ import annotations

from pathlib import Path

from editor.__main__ import apply_cache_dir
from editor.settings import Settings


def test_setting_points_lipcore_cache_at_the_folder(tmp_path, monkeypatch):
    from lipcore.cache import cache_path, cache_root

    monkeypatch.delenv("LIPSYNC_CACHE_DIR", raising=False)
    settings = Settings()
    settings.cache_dir = str(tmp_path / "my cache")
    assert apply_cache_dir(settings) == tmp_path / "my cache"
    assert cache_root().is_relative_to(tmp_path / "my cache")
    assert cache_path("faces", "abc").is_relative_to(tmp_path / "my cache")


def test_empty_setting_keeps_the_default_and_the_variable_wins(tmp_path):
    env: dict[str, str] = {}
    assert apply_cache_dir(Settings(), env) is None and env == {}
    env = {"LIPSYNC_CACHE_DIR": str(tmp_path / "from env")}
    settings = Settings()
    settings.cache_dir = str(tmp_path / "from settings")
    assert apply_cache_dir(settings, env) == Path(tmp_path / "from env")
    assert env["LIPSYNC_CACHE_DIR"] == str(tmp_path / "from env")


def test_home_relative_folder_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    env: dict[str, str] = {}
    settings = Settings()
    settings.cache_dir = "~/lipsync-cache"
    assert apply_cache_dir(settings, env) == tmp_path / "lipsync-cache"
    assert env["LIPSYNC_CACHE_DIR"] == str(tmp_path / "lipsync-cache")
