"""The upload page's batch details in the browser: the title (numbered), tags and licence
given once reach every file of the batch, and "Edit these uploads" opens them together."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import col, select

from dam.models import Asset, AssetTag, Role
from dam.runtime import Runtime
from tests import media
from tests.browser.conftest import Person, log_in


def test_batch_details_reach_every_file_and_the_batch_is_edited_in_one_go(
    page: Page, make_person: Callable[..., Person], ui_runtime: Runtime, tmp_path: Path
) -> None:
    files = []
    for n in (1, 2):
        path = tmp_path / f"pers-{n}.jpg"
        path.write_bytes(media.jpeg(320, 240, seed=60 + n))
        files.append(path)
    log_in(page, make_person(Role.creative), path="/upload")
    page.get_by_label("Titel").fill("Persmoment")
    page.locator("#batch_tags").fill("pers, gent")
    page.get_by_label("Onder licentie").first.check()
    page.locator("#batch_credit").fill("Belga")
    page.get_by_label("Bestanden kiezen").set_input_files(files)
    for path in files:
        row = page.locator(".upload-item", has_text=path.name)
        expect(row).to_have_attribute("data-state", "ready", timeout=60_000)

    with ui_runtime.session() as session:
        assets = list(
            session.exec(select(Asset).where(col(Asset.filename).in_([p.name for p in files])))
        )
        assert sorted(a.title for a in assets) == ["Persmoment 1", "Persmoment 2"]
        assert {a.licence_status for a in assets} == {"licensed"}
        assert all(a.licence.get("credit") == "Belga" for a in assets)
        tags = set(session.exec(select(AssetTag.tag).where(AssetTag.asset_id == assets[0].id)))
        assert tags == {"pers", "gent"}
        ids = {a.id for a in assets}

    page.get_by_role("link", name="Deze uploads bewerken").click()
    expect(page.get_by_role("heading", name="Deze uploads bewerken")).to_be_visible()
    for asset_id in ids:
        page.locator(f"#alt_text-{asset_id}").fill("Een spreker op een persmoment.")
    page.get_by_role("button", name="Alles bewaren").click()
    expect(page.get_by_text("2 beelden bewaard.")).to_be_visible()
    with ui_runtime.session() as session:
        stored = [session.get(Asset, a) for a in ids]
        assert all(a is not None and a.alt_text.startswith("Een spreker") for a in stored)
