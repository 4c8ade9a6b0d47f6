"""Test data through the services' own sessions, without the pipeline: assets as ingest
leaves them, faces as the detector stores them."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from dam import auth
from dam.assets import set_tags
from dam.clock import now
from dam.models import (
    Asset,
    AssetKind,
    AssetStatus,
    Face,
    FaceState,
    LicenceStatus,
    Role,
    User,
)
from dam.runtime import Runtime


def make_user(rt: Runtime, role: Role = Role.admin) -> User:
    with rt.unit_of_work() as session:
        return auth.create_user(
            session,
            email=f"{role.value}-{secrets.token_hex(4)}@example.test",
            password="correct horse battery",
            role=role,
        )


def make_asset(
    rt: Runtime,
    title: str = "",
    *,
    kind: AssetKind = AssetKind.image,
    owner: User | None = None,
    faces_checked: bool = True,
    licence_status: LicenceStatus = LicenceStatus.own,
    tags: Sequence[str] = (),
) -> str:
    """A processed asset (no files: nothing here reads them, so no page or link that
    shows its picture). Own work unless said otherwise: tests about consent must not be
    held back by an unknown licence. Tags as the upload form sets them."""
    with rt.unit_of_work() as session:
        asset = Asset(
            kind=kind,
            status=AssetStatus.ready,
            filename="beeld.mp4" if kind == AssetKind.video else "beeld.jpg",
            mime="video/mp4" if kind == AssetKind.video else "image/jpeg",
            size=1,
            sha256=secrets.token_hex(32),
            width=1600,
            height=1200,
            title=title,
            owner_id=owner.id if owner else None,
            faces_checked_at=now() if faces_checked else None,
            licence_status=licence_status,
        )
        session.add(asset)
        if tags:
            set_tags(session, asset.id, list(tags))
        return asset.id


def make_face(
    rt: Runtime,
    asset_id: str,
    *,
    state: FaceState = FaceState.unknown,
    person_id: str | None = None,
) -> str:
    with rt.unit_of_work() as session:
        face = Face(
            asset_id=asset_id,
            box_x=0.4,
            box_y=0.3,
            box_w=0.1,
            box_h=0.15,
            score=0.99,
            detector="test",
            state=state,
            person_id=person_id,
        )
        session.add(face)
        return face.id


# A change is searchable within about a second (DAM_SEARCH_COMMIT_INTERVAL_MS is 200 ms);
# tests allow three, so a CI machine running two workers flat out does not fail them.
# The figure itself is measured by bench/search.py, not asserted here.
SEARCHABLE_WITHIN_S = 3.0
