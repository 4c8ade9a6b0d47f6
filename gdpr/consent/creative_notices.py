"""Notices for creatives: a photo or video they uploaded, or whose publication they
recorded, became blocked because a person on it withdrew consent or their consent ended,
and how many recorded publications of it are still online (what to take down).

One notice per colleague, asset and cause (the withdrawn or ended consent), in the same
Notification table as the privacy officers' notices but with a `recipient_id`. Like
theirs they hold ids and counts; the text is made when shown, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from dam import clock
from dam.models import Asset, Consent, Face, FaceState, Notification, Usage, VerdictStatus
from dam.settings import Settings
from gdpr.consent import consent_filters, notifications
from gdpr.judgement import verdicts

ASSET_BLOCKED = "asset.blocked"
WITHDRAWN, EXPIRED = "withdrawn", "expired"
# How long after a consent ended its blocked assets are still looked for (a server that
# was down on the day still tells the creatives).
EXPIRED_LOOKBACK = timedelta(days=7)

_TEXTS = {
    "nl": {
        WITHDRAWN: "“{title}” is geblokkeerd: iemand op de foto of video trok de toestemming in.",
        EXPIRED: "“{title}” is geblokkeerd: de toestemming van iemand op de foto of video is "
        "verlopen.",
        "none": "Er staan geen publicaties meer online die je moet offline halen.",
        "one": "Haal de geregistreerde publicatie offline.",
        "many": "Haal de {usages} geregistreerde publicaties offline.",
    },
    "en": {
        WITHDRAWN: "“{title}” is blocked: someone in the picture withdrew consent.",
        EXPIRED: "“{title}” is blocked: the consent of someone in the picture has ended.",
        "none": "No recorded publication of it is still online.",
        "one": "Take its recorded publication down.",
        "many": "Take its {usages} recorded publications down.",
    },
}


def text(notice: Notification, lang: str, title: str) -> str:
    """The notice in `lang` (Dutch for any other): what happened to the asset called
    `title` (read when shown: a notice keeps no text that an erasure must find), and what
    to take down."""
    words = _TEXTS.get(lang, _TEXTS["nl"])
    params = notice.params
    usages = int(params.get("usages", 0))
    what = words.get(str(params.get("cause")), words[WITHDRAWN]).format(title=title or "…")
    todo = words["none" if usages == 0 else "one" if usages == 1 else "many"]
    return f"{what} {todo.format(usages=usages)}"


def link(notice: Notification) -> str:
    return f"/assets/{notice.subject_id}#publishing"


def notify_blocked(
    session: Session,
    *,
    person_id: str,
    cause: str,
    cause_id: str,
    asset_ids: Iterable[str],
    actor_id: str | None = None,
) -> int:
    """A notice to whoever uploaded each asset and whoever recorded a publication of it,
    except `actor_id` (who caused the block knows); how many were added (the caller
    commits)."""
    wanted = sorted(set(asset_ids))
    if not wanted:
        return 0
    assets = session.exec(select(Asset.id, Asset.owner_id).where(col(Asset.id).in_(wanted))).all()
    open_usages = dict(
        session.exec(
            select(Usage.asset_id, func.count())
            .where(col(Usage.asset_id).in_(wanted), col(Usage.recalled_at).is_(None))
            .group_by(col(Usage.asset_id))
        ).all()
    )
    publishers: dict[str, set[str]] = {}
    for asset_id, user_id in session.exec(
        select(Usage.asset_id, Usage.recorded_by).where(col(Usage.asset_id).in_(wanted))
    ).all():
        if user_id:
            publishers.setdefault(asset_id, set()).add(user_id)
    added = 0
    for asset_id, owner_id in assets:
        recipients = publishers.get(asset_id, set()) | ({owner_id} if owner_id else set())
        recipients.discard(actor_id or "")
        for user_id in sorted(recipients):
            added += notifications.add(
                session,
                kind=ASSET_BLOCKED,
                subject_type="asset",
                subject_id=asset_id,
                recipient_id=user_id,
                dedupe_key=f"{ASSET_BLOCKED}:{cause_id}:{asset_id}:{user_id}",
                params={"cause": cause, "usages": int(open_usages.get(asset_id, 0))},
            )
    return added


def confirmed_assets(session: Session, person_id: str) -> list[str]:
    """The assets the person is confirmed on (blocked by their withdrawal)."""
    return list(
        session.exec(
            select(Face.asset_id)
            .where(Face.person_id == person_id, Face.state == FaceState.confirmed)
            .distinct()
        )
    )


def notice_withdrawal(session: Session, consent: Consent) -> int:
    """Called in the withdrawing transaction, beside the officers' notice."""
    assert consent.person_id is not None
    return notify_blocked(
        session,
        person_id=consent.person_id,
        cause=WITHDRAWN,
        cause_id=consent.id,
        asset_ids=confirmed_assets(session, consent.person_id),
        actor_id=consent.withdrawn_by,
    )


def notice_expired(session: Session, settings: Settings) -> int:
    """For consents that ended lately: the assets their end really blocked (the stored
    verdict names the ended consent's person; another consent may still cover them)."""
    moment = clock.now()
    ended = session.exec(
        select(Consent).where(
            col(Consent.person_id).is_not(None),
            consent_filters.ending_between(moment - EXPIRED_LOOKBACK, moment),
        )
    ).all()
    added = 0
    for consent in ended:
        person_id = str(consent.person_id)
        blocked = [
            asset_id
            for asset_id in confirmed_assets(session, person_id)
            if _blocked_by_expiry(session, asset_id, person_id)
        ]
        added += notify_blocked(
            session, person_id=person_id, cause=EXPIRED, cause_id=consent.id, asset_ids=blocked
        )
    return added


def _blocked_by_expiry(session: Session, asset_id: str, person_id: str) -> bool:
    return any(
        v.status == VerdictStatus.blocked
        and any(
            r.get("code") == "consent_expired" and r.get("person_id") == person_id
            for r in v.reasons
        )
        for v in verdicts.stored(session, asset_id).values()
    )


def unread_for(session: Session, user_id: str, *, limit: int = 50) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(col(Notification.recipient_id) == user_id)
            .order_by(col(Notification.read_at).is_not(None), col(Notification.created_at).desc())
            .limit(limit)
        )
    )


def unread_count_for(session: Session, user_id: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Notification)
            .where(col(Notification.recipient_id) == user_id, col(Notification.read_at).is_(None))
        ).one()
    )


def mark_read(session: Session, notice_id: str, user_id: str) -> None:
    """Mark one of the user's own notices as read (anyone else's: nothing happens)."""
    notice = session.get(Notification, notice_id)
    if notice is not None and notice.recipient_id == user_id and notice.read_at is None:
        notice.read_at, notice.read_by = clock.now(), user_id
        session.add(notice)
        session.commit()
