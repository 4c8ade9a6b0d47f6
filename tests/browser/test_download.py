"""The download control in a real browser: a cleared photo downloads in the chosen preset;
a photo that is not cleared explains why, offers the blurred version and a review
request, all by keyboard; the crop editor moves its frame with the arrow keys and shows a
live preview, and by mouse (moved, resized from its corner), showing the crop a download
uses; axe-core finds nothing at desktop and phone width."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from dam.models import Face, FaceState, Role
from dam.runtime import Runtime
from tests import media
from tests.browser.conftest import api_token, assert_accessible, log_in, screenshot
from tests.browser.test_asset_page import wait_until


def _upload(runtime: Runtime, server: str, person: object, seed: int) -> str:
    token = api_token(runtime, person)  # type: ignore[arg-type]
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=180
    ) as api:
        made = api.post(
            "/api/v1/assets",
            files={"file": (f"foto-{seed}.jpg", media.jpeg(900, 600, seed=seed), "image/jpeg")},
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])


def test_a_cleared_photo_downloads_in_the_chosen_shape(
    page: Page, ui_runtime: Runtime, server: str, make_person: object
) -> None:
    person = make_person(Role.creative)  # type: ignore[operator]
    asset_id = _upload(ui_runtime, server, person, 71)
    log_in(page, person)
    page.goto(f"/assets/{asset_id}?download_channel=intranet#download")
    control = page.locator("#download")
    control.get_by_label("Formaat en vorm").select_option("square")
    control.get_by_label("Bestandsformaat").select_option("webp")
    with page.expect_download() as info:
        control.get_by_role("button", name="Downloaden").click()
    assert info.value.suggested_filename.endswith("-intranet-square.webp")
    assert_accessible(page)


def test_not_cleared_is_explained_and_the_crop_moves_by_keyboard(
    page: Page, ui_runtime: Runtime, server: str, make_person: object
) -> None:
    person = make_person(Role.creative)  # type: ignore[operator]
    asset_id = _upload(ui_runtime, server, person, 72)
    with ui_runtime.unit_of_work() as session:
        session.add(
            Face(
                asset_id=asset_id,
                box_x=0.45,
                box_y=0.1,
                box_w=0.1,
                box_h=0.15,
                score=0.99,
                detector="test",
                state=FaceState.unknown,
            )
        )
    log_in(page, person)
    page.goto(f"/assets/{asset_id}?download_channel=intranet#download")
    control = page.locator("#download")
    expect(control.get_by_text("Niet vrijgegeven voor")).to_be_visible()
    expect(
        control.get_by_role("button", name="Versie met vervaagde gezichten downloaden")
    ).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(page)
    screenshot(page, "download-not-cleared")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The crop editor, by keyboard only.
    summary = control.locator("#crop-editor summary")
    summary.focus()
    page.keyboard.press("Enter")
    stage = control.locator("#crop-stage")
    expect(stage).to_be_visible()
    wait_until(page, "document.getElementById('crop-picture').naturalWidth > 0")
    control.get_by_label("Vorm", exact=True).select_option("portrait")
    before = float(control.locator("#crop-x").input_value())
    stage.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+ArrowLeft")
    after = float(control.locator("#crop-x").input_value())
    assert after < before or before == 0.0
    height = page.evaluate("document.getElementById('crop-preview').height")
    width = page.evaluate("document.getElementById('crop-preview').width")
    assert round(width / height, 2) == round(1080 / 1350, 2)  # the preview has the shape
    control.get_by_role("button", name="Deze uitsnede bewaren").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("De uitsnede is bewaard.")).to_be_visible()

    # And the review request, by keyboard.
    page.goto(f"/assets/{asset_id}?download_channel=intranet#download")
    page.locator("#download").get_by_role("button", name="Vraag een controle aan").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("De privacyverantwoordelijken zijn gevraagd")).to_be_visible()


def test_the_crop_frame_moves_and_resizes_by_mouse_and_the_photo_fits_the_screen(
    page: Page, ui_runtime: Runtime, server: str, make_person: object
) -> None:
    person = make_person(Role.creative)  # type: ignore[operator]
    token = api_token(ui_runtime, person)  # type: ignore[arg-type]
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=180
    ) as api:
        made = api.post(
            "/api/v1/assets",
            files={"file": ("staand.jpg", media.jpeg(600, 1500, seed=73), "image/jpeg")},
        )
        assert made.status_code == 201, made.text
        asset_id = made.json()["id"]
    log_in(page, person)
    page.goto(f"/assets/{asset_id}?download_channel=intranet#download")
    control = page.locator("#download")
    control.locator("#crop-editor summary").click()
    wait_until(page, "document.getElementById('crop-picture').naturalWidth > 0")
    control.get_by_label("Vorm", exact=True).select_option("square")
    stage = control.locator("#crop-stage")
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    assert box is not None
    assert box["height"] <= 0.7 * 900 + 2  # a tall photo fits on the screen with its frame

    def numbers() -> list[float]:
        return [float(control.locator(f"#crop-{k}").input_value()) for k in "xywh"]

    _, y, w, _ = numbers()
    assert w == 100.0  # a square of a tall photo: full width, a third of its height
    # Drag the frame down by a fifth of the picture.
    frame = page.locator("#crop-rect").bounding_box()
    assert frame is not None
    cx, cy = frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx, cy + box["height"] / 5, steps=6)
    page.mouse.up()
    moved = numbers()
    assert moved[1] == pytest.approx(y + 20, abs=1.5) and moved[2] == w
    # Drag its lower right corner inwards: smaller, still square.
    frame = page.locator("#crop-rect").bounding_box()
    assert frame is not None
    corner = (frame["x"] + frame["width"] - 2, frame["y"] + frame["height"] - 2)
    page.mouse.move(*corner)
    page.mouse.down()
    page.mouse.move(corner[0] - frame["width"] / 2, corner[1] - frame["height"] / 2, steps=6)
    page.mouse.up()
    smaller = numbers()
    assert smaller[2] == pytest.approx(50, abs=2)
    assert smaller[3] * 1500 == pytest.approx(smaller[2] * 600, rel=0.05)  # still square
    preview = page.evaluate(
        "(() => { const c = document.getElementById('crop-preview');"
        " return [c.width, c.height]; })()"
    )
    assert preview[0] == preview[1]
    control.get_by_role("button", name="Deze uitsnede bewaren").click()
    expect(page.get_by_text("De uitsnede is bewaard.")).to_be_visible()
    saved = httpx.get(
        f"{server}/api/v1/assets/{asset_id}/crops",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    square = next(c for c in saved if c["preset"] == "square")
    assert square["source"] == "saved" and square["w"] == pytest.approx(0.5, abs=0.02)


def test_the_crop_editor_shows_the_crop_a_download_uses(
    page: Page, ui_runtime: Runtime, server: str, make_person: object
) -> None:
    """A photo without faces: a download crops where the attention map sums highest; the
    editor showed a centred frame instead until it asks the API once it opens."""
    person = make_person(Role.creative)  # type: ignore[operator]
    token = api_token(ui_runtime, person)  # type: ignore[arg-type]
    picture = Image.new("RGB", (800, 1600), (128, 128, 128))
    ImageDraw.Draw(picture).rectangle((100, 1250, 700, 1550), fill=(230, 20, 40))
    data = io.BytesIO()
    picture.save(data, "JPEG", quality=90)
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=180
    ) as api:
        made = api.post(
            "/api/v1/assets", files={"file": ("rood.jpg", data.getvalue(), "image/jpeg")}
        )
        assert made.status_code == 201, made.text
        asset_id = made.json()["id"]
        crops = api.get(f"/api/v1/assets/{asset_id}/crops").json()
    square = next(c for c in crops if c["preset"] == "square")
    assert square["source"] == "attention" and square["y"] > 0.4  # the red block, low down
    log_in(page, person)
    page.goto(f"/assets/{asset_id}?download_channel=intranet#download")
    control = page.locator("#download")
    control.locator("#crop-editor summary").click()
    wait_until(page, "document.querySelector('.crop-form').dataset.cropsLoaded === '1'")
    control.get_by_label("Vorm", exact=True).select_option("square")
    shown = float(control.locator("#crop-y").input_value())
    assert shown == pytest.approx(square["y"] * 100, abs=0.1)
