"""The verdict's reasons as sentences a person understands, in Dutch and English.

Names are looked up when a reason is shown (the cache holds person ids only), so an
erased person's name cannot linger in stored verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from gdpr.judgement.verdict import Reason

LANGUAGES = ("nl", "en")

CHANNEL_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "internal": "intern gebruik",
        "intranet": "intranet",
        "website": "website",
        "social": "sociale media",
        "print": "drukwerk",
        "press": "pers",
    },
    "en": {
        "internal": "internal use",
        "intranet": "intranet",
        "website": "website",
        "social": "social media",
        "print": "print",
        "press": "press",
    },
}

_TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "restricted": "Dit is bewijsmateriaal van een toestemming; het wordt nooit gepubliceerd.",
        "embargo": "Onder embargo tot {date}.",
        "licence_channel": "De licentie staat publicatie via {channel} niet toe.",
        "licence_expired": "De licentie is verlopen op {date}.",
        "alt_text_missing": "Alternatieve tekst ontbreekt (verplicht voor {channel}).",
        "licence_unknown": "Licentie onbekend: leg vast of het eigen werk is of onder licentie.",
        "consent_withdrawn": "{person} heeft de toestemming ingetrokken op {date}.",
        "consent_expired": "De toestemming van {person} is verlopen op {date}.",
        "consent_not_started": "De toestemming van {person} gaat pas in op {date}.",
        "guardian_missing": "{person} is minderjarig: de toestemming vermeldt geen ouder of voogd.",
        "consent_channel": "De toestemming van {person} dekt {channel} niet.",
        "consent_missing": "Er is geen toestemming van {person}.",
        "faces_unidentified": "1 gezicht nog niet herkend: wie staat erop?",
        "faces_unidentified+": "{count} gezichten nog niet herkend: wie staat erop?",
        "faces_suggested": "1 gezicht automatisch herkend maar nog niet bevestigd.",
        "faces_suggested+": "{count} gezichten automatisch herkend maar nog niet bevestigd.",
        "people_not_detected": "Iemand meldde dat er niet-gedetecteerde personen op staan.",
        "faces_not_checked": "Nog niet nagekeken op gezichten.",
        "no_people": "Geen personen gedetecteerd.",
        "consent_valid": "{person} gaf toestemming{until}.",
    },
    "en": {
        "restricted": "This is consent evidence; it is never published.",
        "embargo": "Under embargo until {date}.",
        "licence_channel": "The licence does not allow publication on {channel}.",
        "licence_expired": "The licence expired on {date}.",
        "alt_text_missing": "Alt text is missing (required for {channel}).",
        "licence_unknown": "Licence unknown: record whether it is own work or licensed.",
        "consent_withdrawn": "{person} withdrew their consent on {date}.",
        "consent_expired": "The consent of {person} expired on {date}.",
        "consent_not_started": "The consent of {person} only starts on {date}.",
        "guardian_missing": "{person} is a minor: the consent names no parent or guardian.",
        "consent_channel": "The consent of {person} does not cover {channel}.",
        "consent_missing": "There is no consent from {person}.",
        "faces_unidentified": "1 face not identified yet: who is this?",
        "faces_unidentified+": "{count} faces not identified yet: who are they?",
        "faces_suggested": "1 face recognised automatically but not confirmed yet.",
        "faces_suggested+": "{count} faces recognised automatically but not confirmed yet.",
        "people_not_detected": "Someone reported people the detector missed.",
        "faces_not_checked": "Not checked for faces yet.",
        "no_people": "No people detected.",
        "consent_valid": "{person} gave consent{until}.",
    },
}

# A code with a count has its plural under "code+" (Dutch and English both use the singular
# for exactly one only).
_UNTIL = {"nl": " tot en met {date}", "en": " until {date}"}
# Roles that may not read people, and people no longer on record, are "someone".
_SOMEONE = {"nl": "iemand", "en": "someone"}


def language(value: str | None) -> str:
    """The supported language closest to `value` (an Accept-Language value or a code)."""
    for part in (value or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "nl"


def describe(
    reason: Reason,
    *,
    channel: str,
    lang: str,
    names: Mapping[str, str],
    zone: str = "Europe/Brussels",
) -> str:
    """One reason as a sentence in `lang` (nl or en)."""
    texts = _TEXTS.get(lang, _TEXTS["nl"])
    count = reason.count or 0
    code = f"{reason.code}+" if count != 1 and f"{reason.code}+" in texts else reason.code
    template = texts.get(code, reason.code)
    person = names.get(reason.person_id or "", _SOMEONE.get(lang, _SOMEONE["nl"]))
    when = _day(reason.at, lang, zone, end=reason.code in ("consent_valid",)) if reason.at else ""
    until = _UNTIL[lang].format(date=when) if reason.code == "consent_valid" and when else ""
    return template.format(
        person=person,
        date=when,
        until=until,
        channel=channel_label(channel, lang),
        count=count,
    )


def channel_label(channel: str, lang: str) -> str:
    return CHANNEL_LABELS.get(lang, {}).get(channel, channel)


def _day(moment: datetime, lang: str, zone: str, *, end: bool) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    if end and local.hour == 0 and local.minute == 0:
        # A validity "until D" ends at the midnight after D: name D itself.
        local = local - timedelta(days=1)
    return format_date(local.date(), format="long", locale="nl_BE" if lang == "nl" else "en_GB")


def format_day(
    moment: datetime | str, lang: str, zone: str = "Europe/Brussels", *, last_day: bool = False
) -> str:
    """A moment as a long local date (a stored ISO string is accepted); `last_day`: the
    moment ends a validity, so name the day before when it is a midnight."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return _day(value, lang, zone, end=last_day)
