"""A person with everything a data-subject request touches, built through the API on real
photos: confirmed faces, a consent with a guardian, notes and a signed form, a usage,
a title and a tag naming them, and the search index knowing their name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from dam import biometrics
from dam.models import FaceEmbedding, Role
from dam.runtime import Runtime
from search.query import Access, SearchRequest, parse_query
from search.service import service_for
from tests import faces_corpus, media
from tests.conftest import Account

NAME = "Zyxwvut Qprstoñ"
NOTES = "Houdt van Vlinderkwekerij Oosthoekxq"
GUARDIAN = "Guardiaan Wqxyzplm"
CONSENT_NOTES = "Formulier getekend bij Hjkqwertyfeest"


@dataclass
class Subject:
    person_id: str
    officer: Account
    creative: Account
    photo_ids: list[str]  # photos the person is confirmed on
    other_photo_id: str  # someone else's photo
    face_ids: list[str]
    evidence_id: str
    evidence_bytes: bytes
    consent_id: str
    sealed: list[bytes]  # their faces' embeddings as stored
    vectors: list[bytes]  # and as plain little-endian float32


def johns() -> dict[str, list[Path]]:
    try:
        return faces_corpus.johns()
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))


def upload(client: TestClient, account: Account, name: str, data: bytes, mime: str) -> dict:
    response = client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (name, data, mime)},
        data={"licence_status": "own"},  # about people: a known licence
    )
    assert response.status_code == 201, response.text
    asset = client.get(f"/api/v1/assets/{response.json()['id']}", headers=account.headers)
    assert asset.json()["status"] == "ready", asset.json()["error"]
    return asset.json()


def found(rt: Runtime, text: str) -> list[str]:
    """Asset ids the index finds for `text`, searching as a privacy officer would."""
    service = service_for(rt)
    assert service.sync.flush()
    request = SearchRequest(query=parse_query(text), access=Access(True, True), per_page=100)
    return sorted(h.id for h in service.backend().search(request).hits)


def build_subject(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> Subject:
    creative, officer = make_account(Role.creative), make_account(Role.privacy_officer)
    photos = johns()
    assets = [
        upload(client, creative, p.name, p.read_bytes(), "image/jpeg")
        for p in photos["John_Salley"][:2]
    ]
    other = upload(client, creative, "simm.jpg", photos["John_Simm"][0].read_bytes(), "image/jpeg")
    person = client.post(
        "/api/v1/people",
        headers=officer.headers,
        json={"name": NAME, "notes": NOTES, "is_minor": True},
    )
    assert person.status_code == 201, person.text
    person_id = person.json()["id"]
    face_ids = []
    for asset in assets:
        assert len(asset["faces"]) == 1
        face_id = asset["faces"][0]["id"]
        confirmed = client.post(
            f"/api/v1/faces/{face_id}/confirm",
            headers=creative.headers,
            json={"person_id": person_id},
        )
        assert confirmed.json()["state"] == "confirmed", confirmed.text
        face_ids.append(face_id)
    evidence_bytes = media.png(seed=17)
    answer = client.post(
        f"/api/v1/people/{person_id}/evidence",
        headers=officer.headers,
        files={"file": ("formulier.png", evidence_bytes, "image/png")},
    )
    assert answer.status_code == 201, answer.text
    evidence = answer.json()
    consent = client.post(
        f"/api/v1/people/{person_id}/consents",
        headers=officer.headers,
        json={
            "channels": ["internal", "website"],
            "granted_at": "2026-01-05",
            "guardian_name": GUARDIAN,
            "evidence_asset_id": evidence["id"],
            "notes": CONSENT_NOTES,
        },
    )
    assert consent.status_code == 201, consent.text
    # Creatives name people in titles and tags, too.
    titled = client.patch(
        f"/api/v1/assets/{assets[1]['id']}",
        headers=creative.headers,
        json={"title": f"{NAME} opent de bibliotheek", "tags": [NAME, "bibliotheek"]},
    )
    assert titled.status_code == 200, titled.text
    usage = client.post(
        f"/api/v1/assets/{assets[0]['id']}/usages",
        headers=creative.headers,
        json={"channel": "website", "url": "https://example.test/nieuws/1"},
    )
    assert usage.status_code == 201, usage.text
    key = biometrics.face_key(rt.settings)
    with rt.session() as session:
        rows = list(
            session.exec(
                select(FaceEmbedding)
                .where(col(FaceEmbedding.face_id).in_(face_ids))
                .order_by(col(FaceEmbedding.face_id))
            )
        )
    assert len(rows) == len(face_ids)
    vectors = [
        biometrics.unseal(key, face_id=r.face_id, model=r.model, sealed=r.sealed).astype("<f4")
        for r in rows
    ]
    return Subject(
        person_id=person_id,
        officer=officer,
        creative=creative,
        photo_ids=[a["id"] for a in assets],
        other_photo_id=other["id"],
        face_ids=face_ids,
        evidence_id=evidence["id"],
        evidence_bytes=evidence_bytes,
        consent_id=consent.json()["id"],
        sealed=[r.sealed for r in rows],
        vectors=[v.tobytes() for v in vectors],
    )
