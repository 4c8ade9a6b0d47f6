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


SSO = {
    "oidc_issuer": "https://login.example.test/realms/gov",
    "oidc_client_id": "beeldbank",
    "oidc_client_secret": "s3cret-from-the-idp",
}


def test_single_sign_on_settings(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, oidc_role_map=" admins=admin , /beeldbank/editors=creative", **SSO
    )
    assert settings.sso_enabled
    assert settings.oidc_role_table == {"admins": "admin", "/beeldbank/editors": "creative"}
    assert settings.oidc_display_name == "login.example.test"
    assert load_settings(data_dir=tmp_path, oidc_name="Vlaamse overheid", **SSO).oidc_display_name
    assert not load_settings(data_dir=tmp_path).sso_enabled


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"oidc_role_map": "admins=boss", **SSO}, "DAM_OIDC_ROLE_MAP"),
        ({"oidc_role_map": "admins", **SSO}, "DAM_OIDC_ROLE_MAP"),
        ({"oidc_default_role": "owner", **SSO}, "DAM_OIDC_DEFAULT_ROLE"),
        ({"oidc_issuer": "ftp://x", "oidc_client_id": "a", "oidc_client_secret": "b"}, "ISSUER"),
        ({"oidc_issuer": SSO["oidc_issuer"]}, "go together"),
        ({"local_login": False}, "DAM_LOCAL_LOGIN=false needs single sign-on"),
        ({"oidc_scopes": "email profile", **SSO}, "DAM_OIDC_SCOPES"),
        (
            {
                "environment": "production",
                "secret_key": "x" * 40,
                **SSO,
                "oidc_issuer": "http://login.example.test",
            },
            "must be https:// in production",
        ),
    ],
)
def test_single_sign_on_settings_are_checked(
    tmp_path: Path, overrides: dict[str, object], problem: str
) -> None:
    with pytest.raises(SettingsError, match=problem):
        load_settings(data_dir=tmp_path, **overrides)
