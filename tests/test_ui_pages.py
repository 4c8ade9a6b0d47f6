"""UI pages over HTTP: role checks on every route, the library without scripts (filters,
sort, paging, bulk actions), the asset form's server-side validation, administration."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import select

from dam.models import ApiToken, Asset, AssetTag, Role, User
from dam.runtime import Runtime
from tests.conftest import Account
from tests.feed_factories import make_asset
from tests.ui_client import csrf_of, log_in
from web.ui.routes import UI_ROUTERS
from web.ui.routes.account import router as account_router
from web.ui.routes.sso import router as sso_router

pytestmark = pytest.mark.one_database

# Which role each page needs at least; anonymous visitors go to the login page.
PAGES = {
    "/": Role.viewer,
    "/collections": Role.viewer,
    "/upload": Role.creative,
    "/people": Role.creative,
    "/admin/users": Role.admin,
    "/admin/tokens": Role.admin,
    "/admin/settings": Role.admin,
    "/admin/import": Role.admin,
    "/uploads/edit": Role.creative,
}


def route_permission(route: APIRoute) -> str | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if permission := getattr(dep.call, "permission", None):
            return str(permission)
        stack.extend(dep.dependencies)
    return None


def test_every_ui_route_checks_a_permission() -> None:
    public = [
        id(r) for r in (*account_router.routes, *sso_router.routes) if isinstance(r, APIRoute)
    ]
    routes = [r for router in UI_ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 15
    for route in routes:
        if id(route) in public:
            continue  # login (password or single sign-on), logout and the language choice
        assert route_permission(route), f"{route.methods} {route.path} has no role check"


@pytest.mark.parametrize("role", [None, *Role])
def test_pages_by_role(
    client: TestClient, make_account: Callable[[Role], Account], role: Role | None
) -> None:
    if role is not None:
        log_in(client, make_account(role))
    for path, needed in PAGES.items():
        response = client.get(path, follow_redirects=False)
        if role is None:
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=")
        elif role.includes(needed):
            assert response.status_code == 200, path
        else:
            assert response.status_code == 403, path
            assert "Je rol laat dit niet toe" in response.text


def test_menu_shows_only_what_the_role_may_use(
    client: TestClient, make_account: Callable[[Role], Account]
) -> None:
    log_in(client, make_account(Role.viewer))
    html = client.get("/").text
    menu = re.search(r'<nav class="main-nav".*?</nav>', html, re.S)
    assert menu is not None
    assert "Bibliotheek" in menu[0] and "Collecties" in menu[0]
    assert "Uploaden" not in menu[0] and "Beheer" not in menu[0]
    assert 'value="delete"' not in html  # no bulk delete button for viewers


def titles_in_grid(html: str) -> list[str]:
    return re.findall(r'<span class="card-title">([^<]*)</span>', html)


def test_library_sorts_filters_and_pages_without_scripts(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    me, other = make_account(Role.creative), make_account(Role.creative)
    for title in ("Beta", "alfa", "Gamma"):
        make_asset(rt, title, owner=me.user, tags=["zee" if title != "Gamma" else "bos"])
    make_asset(rt, "Delta", owner=other.user)
    log_in(client, me)
    assert titles_in_grid(client.get("/?sort=title").text) == ["alfa", "Beta", "Delta", "Gamma"]
    assert titles_in_grid(client.get("/?sort=newest").text)[0] == "Delta"
    assert titles_in_grid(client.get("/?sort=title&tag=ZEE").text) == ["alfa", "Beta"]
    assert titles_in_grid(client.get("/?sort=title&mine=1").text) == ["alfa", "Beta", "Gamma"]
    assert titles_in_grid(client.get("/?kind=video").text) == []
    assert "Niets voldoet aan deze filters." in client.get("/?kind=video").text
    assert titles_in_grid(client.get("/?sort=nonsense&page=-4").text)[0] == "Delta"

    monkeypatch.setattr("web.ui.listing.PER_PAGE", 3)
    first = client.get("/?sort=title").text
    assert titles_in_grid(first) == ["alfa", "Beta", "Delta"]
    assert 'href="/?sort=title&amp;page=2" rel="next"' in first
    second = client.get("/?sort=title&page=2")
    assert titles_in_grid(second.text) == ["Gamma"]
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    # What the infinite-scroll script fetches: just the cards, and where to go next.
    fragment = client.get("/?sort=title&page=1&fragment=1")
    assert fragment.text.lstrip().startswith('<li class="card ar-')
    assert fragment.text.count('form="bulk"') == 3  # appended cards can be selected too
    assert fragment.headers["x-next-page"] == "/?sort=title&page=2"
    assert "x-next-page" not in client.get("/?sort=title&page=2&fragment=1").headers


def test_bulk_tags_collection_and_delete_with_confirmation(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    ids = [make_asset(rt, owner=creative.user) for _ in range(3)]
    token = log_in(client, creative)
    response = client.post(
        "/library/bulk",
        data={"action": "tag", "ids": ids[:2], "tags": "Zomer, campagne", "csrf_token": token},
    )
    assert "Trefwoorden toegevoegd aan 2 bestanden." in response.text
    with rt.session() as session:
        tags = set(session.exec(select(AssetTag.tag).where(AssetTag.asset_id == ids[0])))
    assert tags == {"zomer", "campagne"}

    created = client.post(
        "/collections", data={"title": "Campagne welzijn 2026", "csrf_token": token}
    )
    collection_url = str(created.url)
    collection_id = collection_url.rsplit("/", 1)[-1]
    response = client.post(
        "/library/bulk",
        data={
            "action": "collect",
            "ids": ids,
            "collection_id": collection_id,
            "csrf_token": token,
        },
    )
    assert "3 bestanden toegevoegd aan Campagne welzijn 2026." in response.text
    assert len(titles_in_grid(client.get(collection_url).text)) == 3

    confirm = client.post(
        "/library/bulk", data={"action": "delete", "ids": ids[:1], "csrf_token": token}
    )
    assert "1 bestand verwijderen?" in confirm.text
    with rt.session() as session:
        assert session.get(Asset, ids[0]) is not None  # nothing deleted before confirming
    deleted = client.post(
        "/library/bulk",
        data={"action": "delete", "ids": ids[:1], "confirm": "yes", "csrf_token": token},
    )
    assert "1 bestand verwijderd." in deleted.text
    with rt.session() as session:
        assert session.get(Asset, ids[0]) is None
    assert len(titles_in_grid(client.get(collection_url).text)) == 2


def test_viewers_cannot_use_bulk_actions(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    owner = make_account(Role.creative)
    asset_id = make_asset(rt, owner=owner.user)
    token = log_in(client, make_account(Role.viewer))
    # A viewer's only action on a selection is the ZIP download: the bar offers that alone.
    library = client.get("/").text
    assert asset_id in library
    assert 'class="select"' in library and 'formaction="/downloads/zip"' in library
    for action in ("tag", "collect", "delete"):
        assert f'name="action" value="{action}"' not in library, action
    for action in ("tag", "delete"):
        response = client.post(
            "/library/bulk",
            data={
                "action": action,
                "ids": [asset_id],
                "tags": "x",
                "confirm": "yes",
                "csrf_token": token,
            },
        )
        assert response.status_code == 403, action


def test_asset_form_validates_on_the_server(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    asset_id = make_asset(rt, owner=creative.user)
    token = log_in(client, creative)
    page = f"/assets/{asset_id}"
    bad = client.post(
        page,
        data={
            "title": "x" * 501,
            "alt_text": "Een zee",
            "licence_valid_until": "31/12/2026",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    assert "De titel mag hoogstens 500 tekens lang zijn." in bad.text
    assert "Geef een datum zoals 2026-12-31." in bad.text
    assert 'id="title" name="title" value="' + "x" * 501 in bad.text  # input kept
    assert 'aria-describedby="error-title" aria-invalid="true"' in bad.text
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None and asset.title == ""  # nothing saved
    good = client.post(
        page + "?sort=title&i=0",
        data={
            "title": "Zee bij Oostende",
            "alt_text": "Golven op het strand",
            "tags": "Zee, strand",
            "licence_terms": "CC BY 4.0",
            "licence_valid_until": "2026-12-31",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert good.headers["location"] == page + "?sort=title&i=0"
    html = client.get(good.headers["location"]).text
    assert "De wijzigingen zijn bewaard." in html
    assert "Zee bij Oostende" in html and "bewerkt" in html
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None
        assert asset.licence == {"terms": "CC BY 4.0", "valid_until": "2026-12-31"}


def test_asset_page_walks_the_result_set(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    ids = [make_asset(rt, title, owner=creative.user) for title in ("A", "B", "C")]
    log_in(client, creative)
    html = client.get(f"/assets/{ids[1]}?sort=title&i=1").text
    assert "2 van 3" in html
    assert f'href="/assets/{ids[0]}?sort=title&amp;i=0" rel="prev"' in html
    assert f'href="/assets/{ids[2]}?sort=title&amp;i=2" rel="next"' in html
    # A stale position (the set changed) shows the asset without previous/next.
    assert "van 3" not in client.get(f"/assets/{ids[1]}?sort=title&i=0").text
    assert client.get("/assets/nope").status_code == 404
    assert client.get(f"/assets/{ids[1]}?i=99999999999999999999999").status_code == 200


def test_admin_manages_users_and_tokens(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    admin = make_account(Role.admin)
    token = log_in(client, admin)
    created = client.post(
        "/admin/users",
        data={
            "email": "Nieuw@Vlaanderen.be",
            "password": "lang genoeg wachtwoord",
            "role": "creative",
            "csrf_token": token,
        },
    )
    assert "Gebruiker nieuw@vlaanderen.be aangemaakt." in created.text
    duplicate = client.post(
        "/admin/users",
        data={
            "email": "nieuw@vlaanderen.be",
            "password": "lang genoeg wachtwoord",
            "role": "viewer",
            "csrf_token": token,
        },
    )
    assert duplicate.status_code == 409
    assert "Er bestaat al een gebruiker met dit e-mailadres." in duplicate.text
    with rt.session() as session:
        user = session.exec(select(User).where(User.email == "nieuw@vlaanderen.be")).one()
    client.post(f"/admin/users/{user.id}/role", data={"role": "viewer", "csrf_token": token})
    client.post(f"/admin/users/{user.id}/active", data={"active": "0", "csrf_token": token})
    with rt.session() as session:
        changed = session.get(User, user.id)
        assert changed is not None and changed.role == Role.viewer and not changed.is_active
    # The last administrator cannot demote themselves.
    last = client.post(
        f"/admin/users/{admin.user.id}/role", data={"role": "viewer", "csrf_token": token}
    )
    assert "Dit is de laatste beheerder" in last.text

    shown = client.post(
        "/admin/tokens", data={"user_id": admin.user.id, "name": "CMS", "csrf_token": token}
    )
    assert shown.status_code == 201
    secret = re.search(r'id="new-token">(bb_[^<]+)<', shown.text)
    assert secret is not None
    assert (
        client.get("/api/v1/assets", headers={"Authorization": f"Bearer {secret[1]}"}).status_code
        == 200
    )
    assert secret[1] not in client.get("/admin/tokens").text  # shown once only
    with rt.session() as session:
        row = session.exec(select(ApiToken).where(ApiToken.name == "CMS")).one()
    client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": token})
    client.cookies.clear()
    assert (
        client.get("/api/v1/assets", headers={"Authorization": f"Bearer {secret[1]}"}).status_code
        == 401
    )


def test_settings_overview_hides_secrets(
    client: TestClient, make_account: Callable[[Role], Account]
) -> None:
    log_in(client, make_account(Role.admin))
    html = client.get("/admin/settings").text
    assert "DAM_SECRET_KEY" in html and "development-only-secret" not in html
    assert "DAM_DATA_DIR" in html


def _setting_row(html: str, name: str) -> str:
    row = re.search(rf"<code>{name}</code></th><td>(.*?)</td>", html)
    assert row is not None, name
    return row[1]


def test_settings_overview_writes_values_in_words(
    client: TestClient, make_account: Callable[[Role], Account]
) -> None:
    """Sizes, durations, pixels, yes/no, choices and channels in the reader's language,
    each beside the value as the environment has it (what an administrator changes)."""
    token = log_in(client, make_account(Role.admin))
    expected = {
        "nl": {
            "DAM_MAX_UPLOAD_BYTES": '20 GB <code class="muted">21474836480</code>',
            "DAM_JOB_STALE_AFTER_S": '10 minuten <code class="muted">600</code>',
            "DAM_UPLOAD_EXPIRY_HOURS": '24 uur <code class="muted">24</code>',
            "DAM_MAX_IMAGE_PIXELS": '200 megapixels <code class="muted">200000000</code>',
            "DAM_FACE_MAX_EDGE_PX": '2.560 pixels <code class="muted">2560</code>',
            "DAM_FACE_DETECTION": 'ja <code class="muted">true</code>',
            "DAM_ENVIRONMENT": 'ontwikkeling <code class="muted">development</code>',
            "DAM_ALT_TEXT_CHANNELS": (
                'website, sociale media <code class="muted">website,social</code>'
            ),
            "DAM_WORKERS": "2",
            "DAM_SEARCH_INDEX": "<code>assets</code>",
            "DAM_IMPORT_ROOTS": "niet ingesteld",
        },
        "en": {
            "DAM_MAX_UPLOAD_BYTES": '20 GB <code class="muted">21474836480</code>',
            "DAM_JOB_STALE_AFTER_S": '10 minutes <code class="muted">600</code>',
            "DAM_SWEEP_INTERVAL_S": '1 minute <code class="muted">60</code>',
            "DAM_FACE_DETECTION": 'yes <code class="muted">true</code>',
            "DAM_LOG_FORMAT": 'plain text <code class="muted">text</code>',
            "DAM_OIDC_DEFAULT_ROLE": "viewer",
            "DAM_CONSENT_NOTICE_DAYS": '30 days <code class="muted">30</code>',
        },
    }
    for locale, rows in expected.items():
        client.post("/language", data={"locale": locale, "next": "/", "csrf_token": token})
        html = client.get("/admin/settings").text
        assert {name: _setting_row(html, name) for name in rows} == rows
        assert ">True<" not in html and "<code>21474836480</code>" not in html


def test_every_number_setting_has_a_unit_or_is_a_count() -> None:
    """A new number setting is written with its unit (from its name) or listed as a count;
    a setting with choices names each of them."""
    import typing

    from dam.settings import Settings
    from web.ui import setting_values

    suffixes = ("_bytes", "_mb", "_s", *setting_values.UNITS)
    for name, info in Settings.model_fields.items():
        kinds = set(typing.get_args(info.annotation)) | {info.annotation}
        if int in kinds and bool not in kinds:
            assert name.endswith(suffixes) or name in setting_values.COUNTS, name
        choices = typing.get_args(info.annotation)
        if typing.get_origin(info.annotation) is typing.Literal:
            assert set(choices) <= set(setting_values.CHOICES.get(name, {})), name


def test_language_choice_is_remembered_per_user(
    client: TestClient, rt: Runtime, creative: Account
) -> None:
    token = log_in(client, creative)
    response = client.post(
        "/language", data={"locale": "en", "next": "/collections", "csrf_token": token}
    )
    assert '<html lang="en"' in response.text and "Collections" in response.text
    with rt.session() as session:
        user = session.get(User, creative.user.id)
        assert user is not None and user.locale == "en"
    client.cookies.clear()
    login_page = client.get("/login", headers={"Accept-Language": "nl-BE"})
    assert '<html lang="nl"' in login_page.text
    log_in(client, creative)
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "nl-BE"}).text


def test_error_pages_are_html_for_the_ui_and_json_for_the_api(
    client: TestClient, creative: Account
) -> None:
    log_in(client, creative)
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "Niet gevonden" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert csrf_of(page)
