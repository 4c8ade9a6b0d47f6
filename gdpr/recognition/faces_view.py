"""Reading faces for lists, asset pages and crops."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, col, select

from dam.assets import visible_to
from dam.blobs import BlobStore
from dam.errors import NotFound
from dam.models import Asset, Face, FaceState, User
from gdpr.recognition.identity import get_face


def list_faces(
    session: Session,
    *,
    state: FaceState | None = None,
    asset_id: str | None = None,
    person_id: str | None = None,
    limit: int = 200,
    viewer: User | None = None,
) -> list[Face]:
    """Faces by state, asset and person; with `viewer`, only those on assets they may see."""
    query = select(Face)
    if viewer is not None:
        query = query.where(col(Face.asset_id).in_(select(Asset.id).where(visible_to(viewer))))
    if state:
        query = query.where(Face.state == state)
    if asset_id:
        query = query.where(Face.asset_id == asset_id)
    if person_id:
        query = query.where(Face.person_id == person_id)
    return list(session.exec(query.order_by(col(Face.id)).limit(limit)))


def get_visible_face(session: Session, face_id: str, user: User) -> Face:
    """The face, unless it is on an asset `user` may not see: then the same 404 as for a
    face that does not exist (a face would otherwise name its restricted asset)."""
    face = session.get(Face, face_id)
    if (
        face is None
        or not session.exec(
            select(Asset.id).where(Asset.id == face.asset_id, visible_to(user))
        ).first()
    ):
        raise NotFound("There is no face with this id.")
    return face


def crop_path(session: Session, blobs: BlobStore, face_id: str) -> Path:
    face = get_face(session, face_id)
    path = blobs.root / face.crop_path if face.crop_path else None
    if path is None or not path.is_file():
        raise NotFound("This face has no picture (yet); `dam faces rebuild` makes it again.")
    return path
