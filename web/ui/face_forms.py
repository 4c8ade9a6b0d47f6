"""The words of the face decision forms on the asset page, the People pages and the review
flow: the dismiss reasons (gdpr.recognition.face_decisions.DISMISS_REASONS) and why a decision was
refused, as message ids (translated when shown)."""

from __future__ import annotations

from dam.errors import DomainError
from web.ui.labels import N_

# gdpr.recognition.face_decisions.DISMISS_REASONS, by the value stored; one button each.
DISMISS_LABELS = {
    "not a face": N_("Not a face"),
    "not recognisable": N_("Not recognisable"),
}

# A refused decision, by the service error's code.
PROBLEMS = {
    "no_person": N_("Choose a person, or type their name."),
    "bad_name": N_("Type the person's name (at most 200 characters)."),
    "ambiguous_name": N_("Several people have this name. Choose one from the list."),
    "may_not_create_people": N_("Only a privacy officer can add a person."),
    "bad_reason": N_("Choose why the face is dismissed."),
}


def problem(exc: DomainError) -> str | None:
    """The message id for a refused face decision; None for any other error."""
    return PROBLEMS.get(exc.code)
