"""A person found across the whole library.

Confirming a face for someone, naming a group, merging two people or making a person from
a face schedules `suggest_person`: every undecided face of the library is compared with
the person's confirmed faces, with the rules of the identity stage (gdpr.recognition.matching), and
the close ones become suggestions on the person's page. The job is about the person
(`Job.person_id`), no asset.

The decrypted vectors live only in this worker's memory (gdpr.recognition.face_vectors).
"""

from __future__ import annotations

import logging

import numpy as np
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dam import biometrics, jobs
from dam.chunks import chunks
from dam.clock import now
from dam.jobs import StageContext
from dam.models import Face, FaceEmbedding, FaceState, Job, Person
from dam.wiring import runtime_of
from gdpr.recognition.face_vectors import FaceVectors, Row
from gdpr.recognition.matching import Undecided, suggest_person

log = logging.getLogger(__name__)

TASK = "suggest_person"
SERVICE = "face_vectors"


def request(session: Session, *, person_id: str) -> None:
    """Schedule the library-wide search for `person_id` (once per transaction)."""
    if any(
        isinstance(o, Job) and o.stage == TASK and o.person_id == person_id for o in session.new
    ):
        return
    jobs.schedule(session, person_id=person_id, stage=TASK)


def request_for(session: Session, person_id: str) -> None:
    """Schedule the search for a person after their confirmed faces changed (if any)."""
    confirmed = session.exec(
        select(Face.id)
        .where(Face.person_id == person_id, Face.state == FaceState.confirmed)
        .limit(1)
    ).first()
    if confirmed is not None:
        request(session, person_id=person_id)


def suggest_person_everywhere(ctx: StageContext) -> None:
    """The `suggest_person` job: suggestions for one person across the library."""
    if not ctx.settings.face_recognition:
        return
    # Jobs queued before they were about the person named them in their params.
    person_id = ctx.person_id or str(ctx.params.get("person_id", ""))
    key = biometrics.face_key(ctx.settings)
    cache: FaceVectors = ctx.runtime.services[SERVICE]
    with ctx.session() as session:
        made = suggest_across_library(session, key, cache, person_id=person_id)
        session.commit()
    log.info("library-wide search for a person made %d suggestion(s)", made)


def suggest_across_library(
    session: Session, key: biometrics.FaceKey, cache: FaceVectors, *, person_id: str
) -> int:
    """Suggest `person_id` for every close undecided face; how many were suggested."""
    if session.get(Person, person_id) is None:
        return 0  # erased or merged away meanwhile
    nonce = func.substr(FaceEmbedding.sealed, 1, biometrics.NONCE_BYTES)
    listed = session.execute(
        sa_select(
            col(Face.id),
            col(Face.asset_id),
            col(Face.state),
            col(Face.person_id),
            col(Face.not_person_id),
            col(Face.distance),
            nonce,
        )
        .join(FaceEmbedding, col(FaceEmbedding.face_id) == col(Face.id))
        .where(col(Face.state).in_([FaceState.unknown, FaceState.suggested, FaceState.confirmed]))
        .order_by(col(Face.id))
    ).all()
    mine = [r for r in listed if r[2] == FaceState.confirmed and r[3] == person_id]
    open_faces = [r for r in listed if r[2] != FaceState.confirmed]
    if not mine or not open_faces:
        return 0
    taken = set(
        session.exec(
            select(Face.asset_id).where(
                Face.person_id == person_id,
                col(Face.state).in_([FaceState.confirmed, FaceState.suggested]),
            )
        )
    )
    rows = [Row(r[0], bytes(r[6])) for r in [*mine, *open_faces]]
    ids, matrix = cache.matrix(session, key, rows)
    position = {face_id: i for i, face_id in enumerate(ids)}
    gallery = matrix[[position[r[0]] for r in mine if r[0] in position]]
    usable = [r for r in open_faces if r[0] in position]
    faces = Undecided(
        face_ids=[r[0] for r in usable],
        asset_ids=np.array([r[1] for r in usable], dtype=object),
        vectors=matrix[[position[r[0]] for r in usable]],
        not_person=np.array([r[4] or "" for r in usable], dtype=object),
        distance=np.array(
            [r[5] if r[2] == FaceState.suggested and r[5] is not None else np.inf for r in usable],
            dtype=np.float64,
        ),
    )
    chosen = suggest_person(person_id, gallery, faces, taken_assets=taken)
    moment = now()
    for part in chunks(sorted(chosen)):
        for face in session.exec(select(Face).where(col(Face.id).in_(part))):
            if face.state not in (FaceState.unknown, FaceState.suggested):
                continue  # decided meanwhile
            face.state, face.person_id = FaceState.suggested, person_id
            face.distance, face.cluster_id = chosen[face.id], None
            face.updated_at = moment
            session.add(face)
    return len(chosen)


def make_cache(_rt: object) -> FaceVectors:
    return FaceVectors()


def forget_opened(session: Session) -> None:
    """Drop the runtime's opened embeddings (an erasure removes someone's)."""
    cache = runtime_of(session).services.get(SERVICE)
    if isinstance(cache, FaceVectors):
        cache.forget()
