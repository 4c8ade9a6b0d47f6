"""Notices for privacy officers: consents about to end, withdrawn consents whose assets
were published, people proposed for erasure. In-app (the Notification table) and, with an
SMTP server set, by e-mail. Notices hold ids and dates; text is made when shown or sent,
and e-mails name nobody (a link leads to the person)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from dam import clock
from dam.models import Consent, Notification, Role, Usage, User
from dam.settings import Settings
from gdpr.consent import consent_filters
from gdpr.judgement import verdicts
from gdpr.judgement.verdict_text import channel_label, format_day

log = logging.getLogger(__name__)

CONSENT_ENDING = "consent.ending"
CONSENT_WITHDRAWN = "consent.withdrawn"
ERASURE_PROPOSED = "person.erasure_proposed"
REVIEW_REQUESTED = "asset.review_requested"
# The privacy officers' notices are those for no one in particular.
OFFICERS = col(Notification.recipient_id).is_(None)

_TEXTS = {
    "nl": {
        CONSENT_ENDING: "Een toestemming loopt af: geldig tot en met {date}.",
        CONSENT_WITHDRAWN: "Een toestemming werd ingetrokken; {usages} publicaties terug te "
        "roepen.",
        CONSENT_WITHDRAWN + "/1": "Een toestemming werd ingetrokken; 1 publicatie terug te roepen.",
        CONSENT_WITHDRAWN + "/0": "Een toestemming werd ingetrokken; niets terug te roepen.",
        ERASURE_PROPOSED: "Een persoon zonder geldige toestemming en zonder bevestigde "
        "gezichten kan gewist worden.",
        REVIEW_REQUESTED: "Een collega vraagt een controle van een beeld voor het kanaal "
        "{channel}.",
    },
    "en": {
        CONSENT_ENDING: "A consent runs out: valid until {date} inclusive.",
        CONSENT_WITHDRAWN: "A consent was withdrawn; {usages} publications to recall.",
        CONSENT_WITHDRAWN + "/1": "A consent was withdrawn; 1 publication to recall.",
        CONSENT_WITHDRAWN + "/0": "A consent was withdrawn; nothing to recall.",
        ERASURE_PROPOSED: "A person without a valid consent and without confirmed faces can "
        "be erased.",
        REVIEW_REQUESTED: "A colleague asks for a review of a picture for the channel {channel}.",
    },
}


def add(
    session: Session,
    *,
    kind: str,
    subject_type: str,
    subject_id: str,
    dedupe_key: str,
    params: dict[str, Any] | None = None,
    recipient_id: str | None = None,
) -> bool:
    """Add a notice unless one with `dedupe_key` exists; True when added. Without
    `recipient_id` it is for the privacy officers (gdpr.consent.creative_notices: for one user)."""
    exists = session.exec(
        select(Notification.id).where(Notification.dedupe_key == dedupe_key)
    ).first()
    if exists:
        return False
    session.add(
        Notification(
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            dedupe_key=dedupe_key,
            params=params or {},
            created_at=clock.now(),
            recipient_id=recipient_id,
        )
    )
    return True


def text(notice: Notification, lang: str, zone: str) -> str:
    params = dict(notice.params)
    if "date" in params:
        # The stored end is the midnight after the last valid day: name that day.
        params["date"] = format_day(params["date"], lang, zone, last_day=True)
    if "channel" in params:  # "sociale media", not the code "social"
        params["channel"] = channel_label(str(params["channel"]), lang)
    texts = _TEXTS.get(lang, _TEXTS["nl"])
    # Counted texts have their own wording for none and for one ("/0", "/1").
    counted = f"{notice.kind}/{params['usages']}" if "usages" in params else ""
    return texts.get(counted, texts.get(notice.kind, notice.kind)).format(**params)


def link(notice: Notification) -> str:
    """Where in the app the notice leads (relative)."""
    person_id = notice.params.get("person_id") or (
        notice.subject_id if notice.subject_type == "person" else None
    )
    if notice.kind == REVIEW_REQUESTED:
        return f"/assets/{notice.subject_id}"
    if notice.kind == CONSENT_WITHDRAWN and person_id:
        return f"/people/{person_id}/takedown"
    return f"/people/{person_id}" if person_id else "/privacy"


def notice_withdrawal(session: Session, consent: Consent) -> None:
    """Called in the withdrawing transaction: a notice when usages need recalling."""
    assert consent.person_id is not None
    usages = int(
        session.exec(
            select(func.count())
            .select_from(Usage)
            .where(
                col(Usage.asset_id).in_(verdicts.assets_of_person_query(consent.person_id)),
                col(Usage.recalled_at).is_(None),
            )
        ).one()
    )
    add(
        session,
        kind=CONSENT_WITHDRAWN,
        subject_type="consent",
        subject_id=consent.id,
        dedupe_key=f"{CONSENT_WITHDRAWN}:{consent.id}",
        params={"person_id": consent.person_id, "usages": usages},
    )


def notice_endings(session: Session, settings: Settings) -> int:
    """A notice per consent in force that ends within the notice period (once each)."""
    now = clock.now()
    horizon = now + timedelta(days=settings.consent_notice_days)
    ending = session.exec(
        select(Consent).where(
            col(Consent.person_id).is_not(None), consent_filters.ending_between(now, horizon)
        )
    ).all()
    added = 0
    for consent in ending:
        assert consent.valid_until is not None
        added += add(
            session,
            kind=CONSENT_ENDING,
            subject_type="consent",
            subject_id=consent.id,
            dedupe_key=f"{CONSENT_ENDING}:{consent.id}:{consent.valid_until.isoformat()}",
            params={"person_id": consent.person_id, "date": consent.valid_until.isoformat()},
        )
    return added


def unread(session: Session, limit: int = 100) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(col(Notification.read_at).is_(None), OFFICERS)
            .order_by(col(Notification.created_at).desc())
            .limit(limit)
        )
    )


def unread_count(session: Session) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Notification)
            .where(col(Notification.read_at).is_(None), OFFICERS)
        ).one()
    )


def mark_read(session: Session, notice_id: str, user: User) -> None:
    notice = session.get(Notification, notice_id)
    if notice is not None and notice.recipient_id is None and notice.read_at is None:
        notice.read_at, notice.read_by = clock.now(), user.id
        session.add(notice)
        session.commit()


# --- e-mail ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    mode: str  # "plain", "ssl" or "starttls"
    user: str | None
    password: str | None


def smtp_target(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    modes = {"smtp": "plain", "smtps": "ssl", "smtp+starttls": "starttls"}
    if parts.scheme not in modes or not parts.hostname:
        raise ValueError(
            "DAM_SMTP_URL must look like smtp://host:port (or smtps://, smtp+starttls://)"
        )
    default_port = {"plain": 25, "ssl": 465, "starttls": 587}[modes[parts.scheme]]
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or default_port,
        mode=modes[parts.scheme],
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def send_pending(session: Session, settings: Settings) -> int:
    """E-mail every notice not sent yet to every active privacy officer and admin."""
    if not settings.smtp_url:
        return 0
    pending = list(
        session.exec(
            select(Notification)
            .where(col(Notification.emailed_at).is_(None), OFFICERS)
            .order_by(col(Notification.created_at))
            .limit(200)
        )
    )
    if not pending:
        return 0
    recipients = [
        u.email
        for u in session.exec(select(User).where(col(User.is_active)))
        if Role(u.role).includes(Role.privacy_officer)
    ]
    if not recipients:
        return 0
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(sorted(recipients))
    count = len(pending)
    message["Subject"] = (
        "Beeldbank: 1 melding / 1 notice"
        if count == 1
        else f"Beeldbank: {count} meldingen / {count} notices"
    )
    base = settings.public_url.rstrip("/")
    lines = []
    for notice in pending:
        for lang in ("nl", "en"):
            lines.append(f"- {text(notice, lang, settings.default_timezone)}")
        lines.append(f"  {base}{link(notice)}")
        lines.append("")
    message.set_content("\n".join(lines))
    target = smtp_target(settings.smtp_url)
    try:
        _deliver(target, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not send %d notice(s) by e-mail: %s", len(pending), type(exc).__name__)
        return 0
    moment = clock.now()
    for notice in pending:
        notice.emailed_at = moment
        session.add(notice)
    session.commit()
    return len(pending)


def _deliver(target: SmtpTarget, message: EmailMessage) -> None:
    if target.mode == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host, target.port, timeout=20, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=20)
    with client:
        if target.mode == "starttls":
            client.starttls(context=ssl.create_default_context())
        if target.user:
            client.login(target.user, target.password or "")
        client.send_message(message)


def run_periodic(session: Session, settings: Settings) -> None:
    try:
        notice_endings(session, settings)
        session.commit()
    except IntegrityError:  # another process added the same notice meanwhile
        session.rollback()
    send_pending(session, settings)
