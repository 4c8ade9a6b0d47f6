"""The library's tiles: shaped after their thumbnails (a class per tenth of the aspect
ratio, clamped), and what the lightbox may show: the preview through the gated rendition
route, never a file the app does not display to everyone who may see the asset."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dam.models import Role
from tests import media
from tests.conftest import Account
from tests.ui_client import log_in
from web.ui.grid_tiles import tile_shape

pytestmark = pytest.mark.one_database


@pytest.mark.parametrize(
    ("width", "height", "shape"),
    [
        (400, 400, "ar-10"),
        (400, 267, "ar-15"),  # 3:2
        (400, 225, "ar-18"),  # 16:9
        (300, 400, "ar-8"),  # 3:4
        (225, 400, "ar-6"),  # 9:16
        (400, 40, "ar-25"),  # a panorama: clamped
        (40, 400, "ar-5"),  # a tower: clamped
        (None, 400, "ar-10"),  # unknown: square
        (400, 0, "ar-10"),
    ],
)
def test_tile_shape(width: int | None, height: int | None, shape: str) -> None:
    assert tile_shape(width, height) == shape


def test_tiles_take_their_thumbnails_shape_and_open_the_preview(
    client: TestClient, make_account: Callable[[Role], Account]
) -> None:
    creative = make_account(Role.creative)
    shapes = {"breed": (480, 270), "hoog": (270, 480)}
    for seed, (title, (width, height)) in enumerate(shapes.items(), start=91):
        made = client.post(
            "/api/v1/assets",
            headers=creative.headers,
            files={"file": (f"{title}.jpg", media.jpeg(width, height, seed=seed), "image/jpeg")},
            data={"title": title},
        )
        assert made.status_code == 201, made.text
        client.patch(
            f"/api/v1/assets/{made.json()['id']}",
            headers=creative.headers,
            json={"alt_text": f"Een {title} beeld"},
        ).raise_for_status()
    log_in(client, make_account(Role.viewer))
    html = client.get("/?sort=title").text
    cards = re.findall(r'<li class="card (ar-\d+)">.*?</li>', html, re.S)
    assert cards == ["ar-18", "ar-6"]  # breed, hoog
    links = re.findall(r'<a class="card-link" href="([^"]+)"([^>]*)>', html)
    assert [href.split("?")[1] for href, _ in links] == ["sort=title&amp;i=0", "sort=title&amp;i=1"]
    for _href, attributes in links:
        view = re.search(r'data-view="(/api/v1/assets/(\w+)/renditions/preview)"', attributes)
        assert view is not None, attributes
        assert 'data-kind="image"' in attributes and 'data-alt="Een ' in attributes
        # The lightbox's picture comes through the gated route, for this viewer too.
        answer = client.get(view[1])
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/webp"
    assert 'width="400" height="225"' in html  # the thumbnail's own size on the <img>
    assert '<dialog class="lightbox" id="lightbox"' in html
