"""Consent evidence is not a library asset (issue 12, section 2): uploaded through the
consent (PDF too), restricted, never processed, listed, searched or deduplicated against
the library in either direction, removed only with its consent's history; a library asset
never becomes evidence; originals shared by a form and a photo outlive either one."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image
from sqlmodel import Session, select

from dam import audit, migrate
from dam.models import Asset, Consent, Job, Rendition, Role
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings
from tests import media
from tests.conftest import Account
from tests.ui_client import log_in

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% handtekening\n%%EOF\n"


@pytest.fixture
def officer(make_account: Callable[[Role], Account]) -> Account:
    return make_account(Role.privacy_officer)


@pytest.fixture
def creative(make_account: Callable[[Role], Account]) -> Account:
    return make_account(Role.creative)


def new_person(client: TestClient, officer: Account) -> str:
    answer = client.post("/api/v1/people", headers=officer.headers, json={"name": "An Smets"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def send_evidence(
    client: TestClient, account: Account, person_id: str, data: bytes, name: str = "form.pdf"
) -> Response:
    return client.post(
        f"/api/v1/people/{person_id}/evidence",
        headers=account.headers,
        files={"file": (name, data, "application/octet-stream")},
    )


def evidence_id(client: TestClient, officer: Account, person_id: str, data: bytes) -> str:
    answer = send_evidence(client, officer, person_id, data)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def upload(client: TestClient, account: Account, data: bytes) -> tuple[int, str]:
    answer = client.post(
        "/api/v1/assets", headers=account.headers, files={"file": ("a.jpg", data, "image/jpeg")}
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.status_code, str(answer.json()["id"])


def consent(client: TestClient, officer: Account, person_id: str, evidence: object) -> Response:
    return client.post(
        f"/api/v1/people/{person_id}/consents",
        headers=officer.headers,
        json={"channels": ["internal"], "granted_at": "2026-01-05", "evidence_asset_id": evidence},
    )


def heic() -> bytes:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    return media.encoded(Image.new("RGB", (64, 48), "white"), "HEIF")


def test_a_signed_pdf_is_stored_as_restricted_evidence_and_nothing_else(
    client: TestClient, rt: Runtime, officer: Account
) -> None:
    pid = new_person(client, officer)
    answer = send_evidence(client, officer, pid, PDF, "toestemming.pdf")
    assert answer.status_code == 201
    body = answer.json()
    assert (body["mime"], body["filename"], body["size"]) == (
        "application/pdf",
        "toestemming.pdf",
        len(PDF),
    )
    recorded = consent(client, officer, pid, body["id"])
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["evidence_asset_id"] == body["id"]
    with Session(rt.engine) as session:
        asset = session.get(Asset, body["id"])
        assert asset is not None
        assert (asset.is_evidence, asset.restricted, asset.kind, asset.status) == (
            True,
            True,
            "document",
            "ready",
        )
        # No image pipeline: no jobs, no renditions, only the stored original.
        assert session.exec(select(Job).where(Job.asset_id == asset.id)).all() == []
        assert session.exec(select(Rendition).where(Rendition.asset_id == asset.id)).all() == []
    original = client.get(f"/api/v1/assets/{body['id']}/original", headers=officer.headers)
    assert original.status_code == 200 and original.content == PDF


@pytest.mark.parametrize("kind", ["jpeg", "png", "heic"])
def test_photos_of_forms_are_accepted_too(
    client: TestClient, rt: Runtime, officer: Account, kind: str
) -> None:
    data = {"jpeg": media.jpeg, "png": media.png, "heic": heic}[kind]()
    answer = send_evidence(client, officer, new_person(client, officer), data, f"f.{kind}")
    assert answer.status_code == 201, answer.text
    assert answer.json()["mime"] == f"image/{kind}"
    with Session(rt.engine) as session:
        assert session.exec(select(Job)).all() == []  # nothing processes a form


def test_other_files_and_other_roles_are_refused(
    client: TestClient, officer: Account, creative: Account
) -> None:
    pid = new_person(client, officer)
    gif = media.encoded(Image.new("RGB", (8, 8)), "GIF")
    for data in (gif, b"PK\x03\x04 an office document"):
        refused = send_evidence(client, officer, pid, data)
        assert refused.status_code == 415, data[:8]
        assert "PDF, JPEG, PNG or HEIC" in refused.json()["error"]["message"]
    empty = send_evidence(client, officer, pid, b"")
    assert empty.status_code == 415 and "empty" in empty.json()["error"]["message"]
    assert send_evidence(client, creative, pid, PDF).status_code == 403
    assert send_evidence(client, officer, "f" * 26, PDF).status_code == 404


def test_an_upload_of_a_forms_bytes_is_no_oracle(
    client: TestClient, officer: Account, creative: Account
) -> None:
    """Section 2, first finding: the same bytes answered `duplicate: true` with the id."""
    form = media.jpeg(seed=501)
    evidence = evidence_id(client, officer, new_person(client, officer), form)
    status, library = upload(client, creative, form)
    assert status == 201 and library != evidence
    # The library copy is a library asset like any other: its duplicates name it.
    assert upload(client, creative, form) == (200, library)
    assert upload(client, officer, form) == (200, library)
    assert client.get(f"/api/v1/assets/{library}", headers=creative.headers).status_code == 200


def test_nobody_deletes_evidence_through_the_library(
    client: TestClient, rt: Runtime, officer: Account, creative: Account
) -> None:
    """Section 2, second finding: DELETE /assets/{id} deleted the signed form."""
    pid = new_person(client, officer)
    evidence = evidence_id(client, officer, pid, PDF)
    consent_id = consent(client, officer, pid, evidence).json()["id"]
    for account in (creative, officer):
        gone = client.delete(f"/api/v1/assets/{evidence}", headers=account.headers)
        assert gone.status_code == 404
    kept = client.get(f"/api/v1/consents/{consent_id}", headers=officer.headers).json()
    assert (kept["state"], kept["evidence_asset_id"]) == ("active", evidence)
    assert client.get(f"/api/v1/assets/{evidence}/original", headers=officer.headers).content == PDF
    # Replacing the version is the way to another form; the old one stays with its history.
    newer = evidence_id(client, officer, pid, PDF + b"% v2\n")
    replaced = client.put(
        f"/api/v1/consents/{consent_id}",
        headers=officer.headers,
        json={"channels": ["internal"], "granted_at": "2026-01-05", "evidence_asset_id": newer},
    )
    assert replaced.status_code == 201 and replaced.json()["evidence_asset_id"] == newer


def test_linking_a_form_leaves_the_library_photo_with_the_same_bytes_alone(
    client: TestClient, officer: Account, creative: Account
) -> None:
    """Section 2, third finding: linking evidence made the equal library photo restricted."""
    photo = media.jpeg(seed=502)
    _, library = upload(client, creative, photo)
    pid = new_person(client, officer)
    evidence = evidence_id(client, officer, pid, photo)
    assert evidence != library
    assert consent(client, officer, pid, evidence).status_code == 201
    mine = client.get(f"/api/v1/assets/{library}", headers=creative.headers)
    assert mine.status_code == 200
    listed = client.get("/api/v1/assets", headers=creative.headers).json()["items"]
    assert [a["id"] for a in listed] == [library]


def test_a_library_asset_never_becomes_evidence(
    client: TestClient, officer: Account, creative: Account
) -> None:
    _, library = upload(client, creative, media.jpeg(seed=503))
    pid = new_person(client, officer)
    for bad, words in (
        (library, "is a library asset"),
        ("", "at least 1 character"),
        ("f" * 26, "does not exist"),
    ):
        refused = consent(client, officer, pid, bad)
        assert refused.status_code == 422, bad
        assert words in refused.json()["error"]["message"]
    # Nor does one person's form prove another person's consent.
    evidence = evidence_id(client, officer, pid, PDF)
    assert consent(client, officer, pid, evidence).status_code == 201
    other = consent(client, officer, new_person(client, officer), evidence)
    assert other.status_code == 422
    assert client.get(f"/api/v1/assets/{library}", headers=creative.headers).status_code == 200


def test_a_shared_original_outlives_the_asset_deleted_first(
    client: TestClient, rt: Runtime, officer: Account, creative: Account
) -> None:
    photo = media.jpeg(seed=504)
    _, library = upload(client, creative, photo)
    evidence = evidence_id(client, officer, new_person(client, officer), photo)
    with Session(rt.engine) as session:
        sha = session.get(Asset, library).sha256  # type: ignore[union-attr]
    assert client.delete(f"/api/v1/assets/{library}", headers=creative.headers).status_code == 204
    assert rt.blobs.original_path(sha).is_file()
    kept = client.get(f"/api/v1/assets/{evidence}/original", headers=officer.headers)
    assert kept.status_code == 200 and kept.content == photo
    # The other way round: a library asset whose form twin goes keeps its file too.
    _, again = upload(client, creative, photo)
    assert again != library
    with rt.unit_of_work() as session:
        from dam.assets import remove_asset_rows, unused_originals

        remove_asset_rows(session, session.get(Asset, evidence))  # type: ignore[arg-type]
        assert unused_originals(session, [sha]) == []
    assert rt.blobs.original_path(sha).is_file()


def test_evidence_is_never_listed_or_searchable(
    client: TestClient, rt: Runtime, officer: Account, creative: Account
) -> None:
    from search.service import service_for

    pid = new_person(client, officer)
    answer = send_evidence(client, officer, pid, media.jpeg(seed=505), "handtekening-smets.jpg")
    evidence = answer.json()["id"]
    _, library = upload(client, creative, media.jpeg(seed=506))
    assert service_for(rt).sync.flush()
    for account in (officer, creative):
        listed = client.get("/api/v1/assets", headers=account.headers).json()["items"]
        assert [a["id"] for a in listed] == [library]
        found = client.get("/api/v1/search?q=handtekening", headers=account.headers).json()
        assert found["total"] == 0
        everything = client.get("/api/v1/search", headers=account.headers).json()
        assert evidence not in {h["id"] for h in everything["hits"]}
        faces = client.get("/api/v1/faces", headers=account.headers).json()
        assert evidence not in {f["asset_id"] for f in faces}


@pytest.fixture
def old_database(settings: Settings) -> Runtime:
    runtime = build_runtime(settings)
    migrate.upgrade(runtime.engine, "0009")
    return runtime


@pytest.mark.empty_database  # migrated to 0009 by the test itself
def test_existing_evidence_migrates(old_database: Runtime) -> None:
    """0010: restricted or linked assets become evidence; a library photo that was linked
    (and so restricted) gets its library life back, its consent a form of its own."""
    rt = old_database
    moment = datetime(2026, 1, 5, tzinfo=UTC)
    meta = sa.MetaData()
    asset = sa.Table("asset", meta, autoload_with=rt.engine)
    consent_table = sa.Table("consent", meta, autoload_with=rt.engine)
    asset_tag = sa.Table("asset_tag", meta, autoload_with=rt.engine)

    def row(asset_id: str, sha: str, restricted: bool) -> dict[str, object]:
        return {
            "id": asset_id,
            "kind": "image",
            "status": "ready",
            "filename": f"{asset_id}.jpg",
            "mime": "image/jpeg",
            "size": 10,
            "sha256": sha,
            "title": "",
            "description": "",
            "alt_text": "",
            "restricted": restricted,
            "undetected_people": False,
            "created_at": moment,
            "updated_at": moment,
        }

    with rt.engine.begin() as conn:
        conn.execute(asset.insert(), [row("form", "a" * 64, True), row("photo", "b" * 64, True)])
        conn.execute(asset.insert(), [row("plain", "c" * 64, False)])
        conn.execute(asset_tag.insert(), [{"asset_id": "photo", "tag": "gent"}])
        conn.execute(
            consent_table.insert(),
            [
                {"id": f"c{n}", "version": 1, "channels": ["internal"], "granted_at": moment,
                 "form_version": "", "notes": "", "created_at": moment, "evidence_asset_id": e}
                for n, e in enumerate(("form", "photo"))
            ],
        )  # fmt: skip
    with Session(rt.engine) as session:
        for subject, source in (("form", "consent_evidence"), ("photo", "upload")):
            audit.record(
                session,
                action="asset.uploaded",
                subject_type="asset",
                subject_id=subject,
                details={"source": source},
            )
        session.commit()
    migrate.upgrade(rt.engine)
    with Session(rt.engine) as session:
        form, photo, plain = (session.get(Asset, i) for i in ("form", "photo", "plain"))
        assert form is not None and photo is not None and plain is not None
        assert (form.is_evidence, form.restricted) == (True, True)
        assert (photo.is_evidence, photo.restricted) == (False, False)
        assert (plain.is_evidence, plain.restricted) == (False, False)
        linked = session.get(Consent, "c1")
        assert linked is not None and linked.evidence_asset_id not in (None, "photo")
        copy = session.get(Asset, linked.evidence_asset_id)
        assert copy is not None and copy.is_evidence and copy.restricted
        assert copy.sha256 == photo.sha256  # one stored original, two assets
        # SQLite rebuilt the table: nothing that points at an asset went with the old one.
        assert session.get(Consent, "c0").evidence_asset_id == "form"  # type: ignore[union-attr]
    with rt.engine.connect() as conn:
        assert conn.execute(sa.select(asset_tag.c.tag)).scalars().all() == ["gent"]
    # Library content stays unique; evidence is outside the key.
    with pytest.raises(sa.exc.IntegrityError), rt.engine.begin() as conn:
        conn.execute(asset.insert(), [row("twin", "c" * 64, False)])
    rt.close()


def test_the_consent_form_takes_a_pdf(
    client: TestClient, rt: Runtime, officer: Account, creative: Account
) -> None:
    from tests.test_ui_consents import record
    from tests.ui_client import log_in

    scan = PDF + b"% scanned at the town hall\n"
    pid = new_person(client, officer)
    token = log_in(client, officer)
    form = client.get(f"/people/{pid}/consents/new")
    assert 'accept="application/pdf' in form.text
    assert "Ondertekend formulier (pdf, scan of foto)" in form.text
    status, _ = record(client, token, pid, evidence=scan)
    assert status == 303
    with Session(rt.engine) as session:
        recorded = session.exec(select(Consent).where(Consent.person_id == pid)).one()
        evidence = session.get(Asset, recorded.evidence_asset_id)
        assert evidence is not None and evidence.is_evidence and evidence.mime == "application/pdf"
    page = client.get(f"/people/{pid}")
    assert f'href="/api/v1/assets/{evidence.id}/original"' in page.text
    assert client.get(f"/api/v1/assets/{evidence.id}/original").content == scan


def test_erasing_the_person_keeps_a_library_twin_of_their_form(
    client: TestClient, rt: Runtime, officer: Account, creative: Account
) -> None:
    photo = media.jpeg(seed=507)
    _, library = upload(client, creative, photo)
    pid = new_person(client, officer)
    evidence = evidence_id(client, officer, pid, photo)
    assert consent(client, officer, pid, evidence).status_code == 201
    erased = client.delete(f"/api/v1/people/{pid}?assets=redact", headers=officer.headers)
    assert erased.status_code == 202, erased.text
    done = client.get(erased.headers["location"], headers=officer.headers).json()
    assert done["status"] == "done" and done["counts"]["evidence_deleted"] == 1, done
    with Session(rt.engine) as session:
        assert session.get(Asset, evidence) is None
        sha = session.get(Asset, library).sha256  # type: ignore[union-attr]
    assert rt.blobs.original_path(sha).is_file()
    mine = client.get(f"/api/v1/assets/{library}/original", headers=creative.headers)
    assert mine.status_code == 200 and mine.content == photo


def signed_pdf() -> bytes:
    """A one-page A4 PDF (as Pillow writes them): white, with a black signature block."""
    page = Image.new("RGB", (595, 842), "white")
    page.paste((0, 0, 0), (300, 700, 550, 780))
    return media.encoded(page, "PDF")


def test_a_pdf_forms_first_page_is_its_preview_for_officers_only(
    client: TestClient, rt: Runtime, officer: Account, creative: Account
) -> None:
    pid = new_person(client, officer)
    evidence = evidence_id(client, officer, pid, signed_pdf())
    preview = f"/api/v1/assets/{evidence}/renditions/preview"
    shown = client.get(preview, headers=officer.headers)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(shown.content)).convert("L")
    assert max(picture.size) == 1200 and picture.size[0] < picture.size[1]  # upright A4
    w, h = picture.size
    assert picture.getpixel((w // 10, h // 10)) > 240  # the white page
    assert picture.getpixel((int(w * 0.7), int(h * 0.88))) < 15  # the signature block
    # Restricted like the form: for anyone else it does not exist.
    assert client.get(preview, headers=creative.headers).status_code == 404
    # Damaged PDFs are kept without a preview (the test PDF above has no page).
    broken = evidence_id(client, officer, pid, PDF)
    assert (
        client.get(
            f"/api/v1/assets/{broken}/renditions/preview", headers=officer.headers
        ).status_code
        == 404
    )
    # The person's page shows the first page beside the link to the form.
    assert consent(client, officer, pid, evidence).status_code == 201
    with TestClient(client.app) as browser:
        log_in(browser, officer)
        page = browser.get(f"/people/{pid}")
    assert f'<img src="{preview}" alt="Eerste pagina van het ondertekende formulier' in page.text
