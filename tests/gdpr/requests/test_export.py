"""Access export (art. 15) through the API on real photos."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from dam import audit
from dam.models import AuditEntry, Role
from dam.runtime import Runtime
from tests.conftest import Account
from tests.privacy_setup import CONSENT_NOTES, GUARDIAN, NAME, NOTES, build_subject

pytestmark = pytest.mark.one_database


def test_the_export_holds_everything_about_the_person_and_nothing_biometric(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    subject = build_subject(client, rt, make_account)
    url = f"/api/v1/people/{subject.person_id}/export"
    assert client.get(url, headers=subject.creative.headers).status_code == 403
    response = client.get(url, headers=subject.officer.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert subject.person_id in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    document = json.loads(archive.read("person.json"))

    assert document["person"]["name"] == NAME
    assert document["person"]["notes"] == NOTES
    assert document["person"]["is_minor"] is True
    (consent,) = document["consents"]
    assert consent["id"] == subject.consent_id
    assert consent["guardian_name"] == GUARDIAN and consent["notes"] == CONSENT_NOTES
    assert consent["channels"] == ["internal", "website"]
    assert archive.read(consent["evidence"]["file"]) == subject.evidence_bytes

    assert sorted(f["id"] for f in document["faces"]) == sorted(subject.face_ids)
    for face in document["faces"]:
        assert face["state"] == "confirmed"
        assert 0 < face["box"]["w"] <= 1 and 0 < face["box"]["h"] <= 1
        assert face["embedding_stored"] is True
        assert archive.read(face["crop"])[:2] == b"\xff\xd8"  # a JPEG cut-out
    by_id = {a["id"]: a for a in document["assets"]}
    assert sorted(by_id) == sorted(subject.photo_ids)  # not someone else's photo
    for asset in by_id.values():
        assert archive.read(asset["thumbnail"])[:4] == b"RIFF"  # WebP
        assert len(asset["face_ids"]) == 1
    (usage,) = by_id[subject.photo_ids[0]]["usages"]
    assert usage["channel"] == "website" and usage["url"] == "https://example.test/nieuws/1"
    assert by_id[subject.photo_ids[1]]["title"] == f"{NAME} opent de bibliotheek"

    actions = [e["action"] for e in document["audit"]]
    assert "person.created" in actions and "consent.recorded" in actions
    assert actions.count("face.confirmed") == 2
    assert all(NAME not in json.dumps(e) for e in document["audit"])

    readme = archive.read("README.md").decode()
    assert "## Nederlands" in readme and "## English" in readme
    for part in ("person.json", "evidence/", "faces/", "assets/", "embedding_stored"):
        assert part in readme
    assert names == {
        "README.md",
        "person.json",
        consent["evidence"]["file"],
        *(f["crop"] for f in document["faces"]),
        *(a["thumbnail"] for a in document["assets"]),
    }
    # Embeddings are not exported, neither sealed nor as numbers.
    for value in (*subject.sealed, *subject.vectors):
        assert value not in response.content
        assert all(value not in archive.read(n) for n in names)

    with rt.session() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "person.exported")).one()
        assert audit.verify(session).ok
    assert entry.subject_id == subject.person_id and entry.actor_id == subject.officer.user.id
    assert entry.details == {"consents": 1, "faces": 2, "assets": 2, "audit_entries": len(actions)}
    assert list((rt.settings.data_dir / "tmp").glob("export-*")) == []  # sent, then removed


def test_exporting_nobody_is_404(
    client: TestClient, make_account: Callable[[Role], Account]
) -> None:
    officer = make_account(Role.privacy_officer)
    response = client.get("/api/v1/people/nobody/export", headers=officer.headers)
    assert response.status_code == 404
