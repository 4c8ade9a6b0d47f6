"""Who a face is: automatic suggestions (the `identity` stage) and people's decisions.

An automatic match is only ever a *suggestion*; a face counts as identified when a
person confirmed it. Every decision is an audit entry holding ids, never names.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from dam import audit, biometrics, events
from dam.clock import now
from dam.errors import Conflict, InvalidInput, NotFound
from dam.jobs import StageContext
from dam.models import Face, FaceState, Person, User
from gdpr.recognition import clustering, embeddings, person_suggestions
from gdpr.recognition.matching import NewFace, suggest
from gdpr.recognition.named_people import suggest_named_people

UNDECIDED = (FaceState.unknown, FaceState.suggested)


def identify_asset_faces(ctx: StageContext) -> None:
    """Suggest known people for an asset's undecided faces; cluster the rest. People the
    file's metadata names are suggested on the faces their regions cover (after the
    matcher: a name someone tagged says more than a resemblance)."""
    with ctx.session() as session:
        # Detection only: nothing biometric is computed or compared (names still count).
        if ctx.settings.face_recognition:
            identify(session, biometrics.face_key(ctx.settings), ctx.asset_id)
        suggest_named_people(session, ctx.asset_id)
        session.commit()


def identify(session: Session, key: biometrics.FaceKey, asset_id: str) -> None:
    """The identity step for one asset, in the caller's transaction."""
    mine = embeddings.load(
        session, key, col(Face.asset_id) == asset_id, col(Face.state).in_(UNDECIDED)
    )
    if not mine.faces:
        return
    present = set(
        session.exec(
            select(Face.person_id).where(
                Face.asset_id == asset_id,
                Face.state == FaceState.confirmed,
                col(Face.person_id).is_not(None),
            )
        )
    )
    gallery = embeddings.load(
        session, key, col(Face.state) == FaceState.confirmed, col(Face.person_id).is_not(None)
    )
    chosen = suggest(
        [NewFace(f.id, v, f.not_person_id) for f, v in zip(mine.faces, mine.vectors, strict=True)],
        gallery.vectors,
        [str(f.person_id) for f in gallery.faces],
        present={p for p in present if p},
    )
    pool = embeddings.load(
        session,
        key,
        col(Face.state) == FaceState.unknown,
        col(Face.cluster_id).is_not(None),
        col(Face.asset_id) != asset_id,
    )
    pool_clusters = [str(f.cluster_id) for f in pool.faces]
    pool_assets = [f.asset_id for f in pool.faces]
    moment = now()
    for face, vector in zip(mine.faces, mine.vectors, strict=True):
        face.updated_at = moment
        if face.id in chosen:
            face.state, face.person_id = FaceState.suggested, chosen[face.id].person_id
            face.distance, face.cluster_id = chosen[face.id].distance, None
            continue
        face.state, face.person_id, face.distance = FaceState.unknown, None, None
        placement = clustering.place(
            vector, pool.vectors, pool_clusters, pool_assets, asset_id=asset_id
        )
        face.cluster_id = placement.cluster_id or face.id
        session.add(face)


def get_face(session: Session, face_id: str) -> Face:
    face = session.get(Face, face_id)
    if face is None:
        raise NotFound("There is no face with this id.")
    return face


def get_person(session: Session, person_id: str) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("There is no person with this id.")
    return person


def confirm_face(session: Session, *, face_id: str, person_id: str, actor: User) -> Face:
    """A person says who this face is."""
    face = get_face(session, face_id)
    # An erasure holds the person's row (PostgreSQL; SQLite's write lock is the whole
    # database's): a confirmation meanwhile waits for it here and then finds them gone. The
    # foreign key would not wait when a suggested face keeps its person.
    locked = session.exec(
        select(Person.id).where(Person.id == person_id).with_for_update(read=True, key_share=True)
    ).first()
    if locked is None:
        raise NotFound("There is no person with this id.")
    _decide(face, FaceState.confirmed, person_id=person_id, actor=actor)
    _record(session, "face.confirmed", face, actor, person_id=person_id)
    # The person's other photos already in the library: found by a job, not here.
    person_suggestions.request(session, person_id=person_id)
    session.commit()
    return face


def dismiss_face(session: Session, *, face_id: str, reason: str, actor: User) -> Face:
    """A person says this is no face, or nobody recognisable (it then needs no consent)."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("Say why the face is dismissed (for example: not a face).")
    face = get_face(session, face_id)
    _decide(face, FaceState.dismissed, person_id=None, actor=actor)
    face.dismiss_reason = reason[:200]
    _record(session, "face.dismissed", face, actor)
    session.commit()
    return face


def split_face(session: Session, *, face_id: str, actor: User) -> Face:
    """Take a wrongly assigned face out of its person; it is never suggested for them again."""
    face = get_face(session, face_id)
    if face.person_id is None:
        raise Conflict("This face belongs to nobody; there is nothing to split off.")
    former = face.person_id
    _decide(face, FaceState.unknown, person_id=None, actor=actor)
    face.not_person_id, face.cluster_id = former, face.id
    _record(session, "face.split", face, actor, person_id=former)
    session.commit()
    return face


def _decide(face: Face, state: FaceState, *, person_id: str | None, actor: User) -> None:
    moment = now()
    face.state, face.person_id = state, person_id
    face.distance, face.dismiss_reason, face.cluster_id = None, None, None
    face.decided_by, face.decided_at, face.updated_at = actor.id, moment, moment


def _record(
    session: Session, action: str, face: Face, actor: User, *, person_id: str | None = None
) -> None:
    details = {"asset_id": face.asset_id}
    if person_id:
        details["person_id"] = person_id
    audit.record(
        session,
        action=action,
        actor_id=actor.id,
        subject_type="face",
        subject_id=face.id,
        details=details,
    )
    session.add(face)
    # The asset's verdict and search document depend on who is in it.
    events.publish_after_commit(session, events.AssetChanged(asset_id=face.asset_id))
