"""Erasure reaches into the originals that stay: a photo the person was only suggested on,
whose IPTC caption names them, is stored again without the name (a new content address,
the same pixels), and the byte scan of the whole data dir finds the name nowhere."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from dam.models import Asset, Face, FaceState, Role
from dam.runtime import Runtime
from ingest.demo import iptc_segment
from ingest.image.metadata import IPTC
from tests.conftest import Account
from tests.gdpr.requests.test_erasure import erase, leftovers
from tests.privacy_setup import NAME, build_subject, johns, upload


def test_erasure_rewrites_a_suggested_photo_whose_caption_names_them(
    client: TestClient, rt: Runtime, make_account: Callable[[Role], Account]
) -> None:
    subject = build_subject(client, rt, make_account)
    photo = johns()["John_Salley"][2].read_bytes()
    segment = iptc_segment(
        {IPTC["caption"]: f"{NAME} bij de opening", IPTC["keywords"]: [NAME.upper(), "lint"]}
    )
    captioned = photo[:2] + segment + photo[2:]
    asset_id = upload(client, subject.creative, "opening.jpg", captioned, "image/jpeg")["id"]
    with rt.unit_of_work() as session:
        (face,) = session.exec(select(Face).where(Face.asset_id == asset_id))
        face.state, face.person_id, face.distance = FaceState.suggested, subject.person_id, 0.4
        session.add(face)
        asset = session.get(Asset, asset_id)
        assert asset is not None
        old_sha = asset.sha256
    old_path = rt.blobs.original_path(old_sha)
    before = leftovers(rt, subject)
    assert f"{old_sha}: {NAME.split()[0]}" in before  # the scan sees the caption

    summary = erase(client, rt, subject, "delete")
    assert asset_id not in summary["assets_deleted"]
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None  # only suggested: the photo stays
        assert asset.sha256 != old_sha and asset.size == len(captioned)
        (face,) = session.exec(select(Face).where(Face.asset_id == asset_id))
        assert face.state == FaceState.unknown and face.person_id is None
    assert not old_path.exists()
    new_path = rt.blobs.original_path(asset.sha256)
    with Image.open(new_path) as new, Image.open(io.BytesIO(captioned)) as old:
        assert np.array_equal(np.asarray(new), np.asarray(old))  # the same pixels
    assert leftovers(rt, subject) == []
