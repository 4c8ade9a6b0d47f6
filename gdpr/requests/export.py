"""Access export (GDPR art. 15): everything Beeldbank holds about one person, as a ZIP.

`person.json` holds the record, every consent version, the faces, the assets they are on
with their recorded usages, and the audit entries concerning the person; the files it
names (consent evidence, face crops, thumbnails) sit beside it, and README.md explains
each part in Dutch and English. Face embeddings are left out on purpose (see README).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from dam import audit
from dam.blobs import BlobStore
from dam.chunks import chunks
from dam.clock import now
from dam.face_paths import PathSample, paths_of
from dam.models import (
    Asset,
    AuditEntry,
    Consent,
    Face,
    FaceEmbedding,
    Person,
    Rendition,
    Usage,
    User,
)
from dam.owner import temp_prefix
from gdpr.recognition.identity import get_person
from gdpr.requests.export_readme import README

THUMBNAIL = "thumb"
_SAFE_EXT = re.compile(r"^[a-z0-9]{1,8}$")


@dataclass
class Gathered:
    """The rows of one person's export, read in one transaction."""

    person: Person
    consents: list[Consent]
    faces: list[Face]
    embedded: set[str]  # ids of faces with a stored embedding
    assets: list[Asset]
    paths: dict[str, tuple[PathSample, ...]]  # face id -> path, for video face tracks
    evidence: dict[str, Asset]  # consent id -> evidence asset
    thumbnails: dict[str, Rendition]
    usages: dict[str, list[Usage]] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Export:
    """A finished ZIP in the data dir's tmp folder; whoever sends it deletes it."""

    path: Path
    filename: str
    counts: dict[str, int]


def gather(session: Session, person_id: str) -> Gathered:
    person = get_person(session, person_id)
    consents = list(
        session.exec(
            select(Consent)
            .where(Consent.person_id == person_id)
            .order_by(col(Consent.created_at), col(Consent.version))
        )
    )
    faces = list(
        session.exec(
            select(Face)
            .where(Face.person_id == person_id)
            .order_by(col(Face.asset_id), col(Face.time_s), col(Face.id))
        )
    )
    face_ids = [f.id for f in faces]
    embedded = {
        face_id
        for chunk in chunks(face_ids)
        for face_id in session.exec(
            select(FaceEmbedding.face_id).where(col(FaceEmbedding.face_id).in_(chunk))
        )
    }
    asset_ids = sorted({f.asset_id for f in faces})
    assets = [a for chunk in chunks(asset_ids) for a in _assets(session, chunk)]
    evidence_ids = sorted({c.evidence_asset_id for c in consents if c.evidence_asset_id})
    evidence_assets = {a.id: a for chunk in chunks(evidence_ids) for a in _assets(session, chunk)}
    evidence = {
        c.id: evidence_assets[c.evidence_asset_id]
        for c in consents
        if c.evidence_asset_id in evidence_assets
    }
    thumbnails = {
        r.asset_id: r
        for chunk in chunks(asset_ids)
        for r in session.exec(
            select(Rendition).where(col(Rendition.asset_id).in_(chunk), Rendition.name == THUMBNAIL)
        )
    }
    usages: dict[str, list[Usage]] = {}
    for chunk in chunks(asset_ids):
        for usage in session.exec(
            select(Usage).where(col(Usage.asset_id).in_(chunk)).order_by(col(Usage.used_at))
        ):
            usages.setdefault(usage.asset_id, []).append(usage)
    return Gathered(
        person=person,
        consents=consents,
        faces=faces,
        embedded=embedded,
        assets=assets,
        paths=paths_of(session, face_ids),
        evidence=evidence,
        thumbnails=thumbnails,
        usages=usages,
        audit=audit_concerning(session, person_id, [c.id for c in consents], face_ids),
    )


def audit_concerning(
    session: Session, person_id: str, consent_ids: Sequence[str], face_ids: Sequence[str]
) -> list[AuditEntry]:
    """Audit entries about the person: they, their consents or faces as the subject, or
    the person named in the details (face confirmations, consent changes)."""
    details_person = col(AuditEntry.details)["person_id"].as_string()
    found: dict[int, AuditEntry] = {}
    subjects = [person_id, *consent_ids, *face_ids]
    for chunk in chunks(subjects):
        for entry in session.exec(
            select(AuditEntry).where(
                or_(col(AuditEntry.subject_id).in_(chunk), details_person == person_id)
            )
        ):
            found[entry.seq] = entry
    return [found[seq] for seq in sorted(found)]


def person_document(data: Gathered, *, exported_at: datetime) -> dict[str, Any]:
    """What person.json holds; file references are paths inside the ZIP."""
    p = data.person
    return {
        "exported_at": _iso(exported_at),
        "person": {
            "id": p.id,
            "name": p.name,
            "email": p.email,
            "notes": p.notes,
            "is_minor": p.is_minor,
            "hidden_in_search": p.hidden,
            "created_at": _iso(p.created_at),
            "updated_at": _iso(p.updated_at),
        },
        "consents": [_consent(c, data.evidence.get(c.id)) for c in data.consents],
        "faces": [_face(f, f.id in data.embedded, data.paths.get(f.id)) for f in data.faces],
        "assets": [
            _asset(a, data.thumbnails.get(a.id), data.usages.get(a.id, []), data.faces)
            for a in data.assets
        ],
        "audit": [
            {
                "seq": e.seq,
                "at": _iso(e.at),
                "actor_id": e.actor_id,
                "action": e.action,
                "subject_type": e.subject_type,
                "subject_id": e.subject_id,
                "details": e.details,
            }
            for e in data.audit
        ],
    }


def export_person(session: Session, *, person_id: str, actor: User, blobs: BlobStore) -> Export:
    """Write the ZIP to a temp file and audit the export (ids and counts only)."""
    data = gather(session, person_id)
    moment = now()
    document = person_document(data, exported_at=moment)
    fd, name = tempfile.mkstemp(dir=blobs.tmp_dir, prefix=temp_prefix("export-"), suffix=".zip")
    os.close(fd)
    path = Path(name)
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.md", README)
            archive.writestr(
                "person.json", json.dumps(document, ensure_ascii=False, indent=2) + "\n"
            )
            for arcname, source in _files(data, blobs):
                # Photos are compressed already: store them as they are.
                archive.write(source, arcname, compress_type=zipfile.ZIP_STORED)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    counts = {
        "consents": len(data.consents),
        "faces": len(data.faces),
        "assets": len(data.assets),
        "audit_entries": len(data.audit),
    }
    audit.record(
        session,
        action="person.exported",
        actor_id=actor.id,
        subject_type="person",
        subject_id=person_id,
        details=counts,
    )
    session.commit()
    return Export(path, f"beeldbank-export-{person_id}-{moment:%Y%m%d}.zip", counts)


# --- the files and their names inside the ZIP ------------------------------------------


def evidence_name(consent: Consent, asset: Asset) -> str:
    return f"evidence/{consent.id}{_ext(asset.filename)}"


def crop_name(face: Face) -> str:
    return f"faces/{face.id}.jpg"


def thumbnail_name(rendition: Rendition) -> str:
    return f"assets/{rendition.asset_id}{_ext(rendition.path)}"


def _files(data: Gathered, blobs: BlobStore) -> Iterator[tuple[str, Path]]:
    for consent_id, asset in data.evidence.items():
        consent = next(c for c in data.consents if c.id == consent_id)
        source = blobs.original_path(asset.sha256)
        if source.is_file():
            yield evidence_name(consent, asset), source
    for face in data.faces:
        if face.crop_path and (blobs.root / face.crop_path).is_file():
            yield crop_name(face), blobs.root / face.crop_path
    for rendition in data.thumbnails.values():
        if (blobs.root / rendition.path).is_file():
            yield thumbnail_name(rendition), blobs.root / rendition.path


def _consent(c: Consent, evidence: Asset | None) -> dict[str, Any]:
    return {
        "id": c.id,
        "version": c.version,
        "supersedes_id": c.supersedes_id,
        "superseded_at": _iso(c.superseded_at),
        "channels": list(c.channels),
        "granted_at": _iso(c.granted_at),
        "valid_until": _iso(c.valid_until),
        "guardian_name": c.guardian_name,
        "form_version": c.form_version,
        "notes": c.notes,
        "recorded_by": c.recorded_by,
        "created_at": _iso(c.created_at),
        "withdrawn_at": _iso(c.withdrawn_at),
        "withdrawn_reason": c.withdrawn_reason,
        "withdrawn_by": c.withdrawn_by,
        "evidence": (
            {
                "asset_id": evidence.id,
                "original_filename": evidence.filename,
                "mime": evidence.mime,
                "file": evidence_name(c, evidence),
            }
            if evidence is not None
            else None
        ),
    }


def _face(f: Face, embedded: bool, path: Sequence[PathSample] | None) -> dict[str, Any]:
    return {
        "id": f.id,
        "asset_id": f.asset_id,
        "state": str(f.state),
        "box": {"x": f.box_x, "y": f.box_y, "w": f.box_w, "h": f.box_h},
        "time_s": f.time_s,
        "time_end_s": f.time_end_s,
        "frames": f.frames,
        "score": f.score,
        "detector": f.detector,
        "distance": f.distance,
        "decided_by": f.decided_by,
        "decided_at": _iso(f.decided_at),
        "created_at": _iso(f.created_at),
        "crop": crop_name(f) if f.crop_path else None,
        "embedding_stored": embedded,
        "path": _path(path),
    }


def _path(path: Sequence[PathSample] | None) -> list[list[float]] | None:
    """A video face's [second, x, y, w, h] in each searched frame it was seen in."""
    if not path:
        return None
    return [[round(s.time_s, 3), *(round(v, 4) for v in (s.x, s.y, s.w, s.h))] for s in path]


def _asset(
    a: Asset, thumbnail: Rendition | None, usages: list[Usage], faces: list[Face]
) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": str(a.kind),
        "filename": a.filename,
        "title": a.title,
        "description": a.description,
        "alt_text": a.alt_text,
        "taken_at": _iso(a.taken_at),
        "created_at": _iso(a.created_at),
        "width": a.width,
        "height": a.height,
        "duration_s": a.duration_s,
        "face_ids": [f.id for f in faces if f.asset_id == a.id],
        "thumbnail": thumbnail_name(thumbnail) if thumbnail is not None else None,
        "usages": [
            {
                "id": u.id,
                "channel": u.channel,
                "url": u.url,
                "note": u.note,
                "used_at": _iso(u.used_at),
                "recorded_by": u.recorded_by,
                "recalled_at": _iso(u.recalled_at),
            }
            for u in usages
        ],
    }


def _assets(session: Session, ids: Sequence[str]) -> list[Asset]:
    return list(session.exec(select(Asset).where(col(Asset.id).in_(ids)).order_by(col(Asset.id))))


def _ext(name: str) -> str:
    """A file name's extension when it is a plain one (names inside the ZIP are ids)."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return f".{ext}" if _SAFE_EXT.match(ext) else ""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
