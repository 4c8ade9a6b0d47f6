"""Settings are validated once, with every problem in one message."""

from __future__ import annotations

from pathlib import Path

import pytest

from dam.settings import SettingsError, load_settings


def test_defaults_are_embedded(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'beeldbank.db'}"
    assert settings.queue_url is None


def test_every_problem_is_listed(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            data_dir=tmp_path,
            workers=-2,
            max_upload_bytes=0,
            queue_url="ftp://x",
            similar_max_distance=9,
        )
    message = str(caught.value)
    for name in (
        "DAM_WORKERS",
        "DAM_MAX_UPLOAD_BYTES",
        "DAM_QUEUE_URL",
        "DAM_SIMILAR_MAX_DISTANCE",
    ):
        assert name in message


@pytest.mark.parametrize(
    ("environment", "secret", "ok"),
    [
        ("development", "development-only-secret", True),
        ("production", "development-only-secret", False),
        ("production", "change-me", False),
        ("production", "x" * 40, True),
    ],
)
def test_production_refuses_placeholder_secrets(
    tmp_path: Path, environment: str, secret: str, ok: bool
) -> None:
    if ok:
        load_settings(data_dir=tmp_path, environment=environment, secret_key=secret)
    else:
        with pytest.raises(SettingsError, match="DAM_SECRET_KEY"):
            load_settings(data_dir=tmp_path, environment=environment, secret_key=secret)
