"""Deciding about one face from a form: confirming it as a person picked from a list or
typed by name, or dismissing it with one of the offered reasons.

The asset page, the People pages and the privacy review flow all decide through here, so a
typed name means the same person everywhere and every face dismissed in the UI carries one
of the same reasons (the JSON API's dismiss still takes free text, as API.md has it).
gdpr.recognition.identity carries the decisions out (it audits them by id and re-judges the asset).
"""

from __future__ import annotations

from sqlmodel import Session

from dam.errors import InvalidInput, NotFound
from dam.models import Face, Person, User
from gdpr.recognition import cluster_naming, identity

# Why a face is dismissed, as the UI forms offer it: a dismissed face needs no consent, so
# the reasons are a fixed list an auditor can read (the UI words them in
# web.ui.face_forms; the API takes free text, so stored reasons may be other words).
DISMISS_REASONS = ("not a face", "not recognisable")


class BadReason(InvalidInput):
    code = "bad_reason"


class NoPerson(InvalidInput):
    """Neither a person picked nor a name typed."""

    code = "no_person"


def face_on(session: Session, asset_id: str, face_id: str) -> Face:
    """The face `face_id` if it is on `asset_id` (a form cannot mix them up)."""
    face = identity.get_face(session, face_id)
    if face.asset_id != asset_id:
        raise NotFound("There is no face with this id.")
    return face


def confirm(
    session: Session,
    *,
    face_id: str,
    person_id: str,
    name: str,
    actor: User,
    may_create: bool,
) -> Person:
    """Confirm a face as `person_id` when one was picked, else as the person called `name`.

    (The asset page's picker sends both: the name it shows and the person chosen, who may
    share that name with others.) A typed name is an existing person's when exactly one
    has it; several are refused, and a new person is made only when `may_create`
    (cluster_naming.person_for_name).
    """
    if person_id:
        person = identity.get_person(session, person_id)
    elif name.strip():
        person, _ = cluster_naming.person_for_name(
            session, name=name, actor=actor, may_create=may_create
        )
    else:
        raise NoPerson("Choose a person, or type their name.")
    identity.confirm_face(session, face_id=face_id, person_id=person.id, actor=actor)
    return person


def dismiss(session: Session, *, face_id: str, reason: str, actor: User) -> Face:
    """Dismiss a face with one of DISMISS_REASONS."""
    if reason not in DISMISS_REASONS:
        raise BadReason("Choose why the face is dismissed.")
    return identity.dismiss_face(session, face_id=face_id, reason=reason, actor=actor)
