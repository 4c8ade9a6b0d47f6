"""Reading the UI's forms into service inputs, with messages for people next to each field.

Messages are message ids (marked with N_) that the template translates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dam.assets import MAX_TAGS, AssetUpdate, split_tags
from dam.models import LicenceStatus
from dam.urls import is_web_address
from web.ui.labels import N_

TITLE_MAX = 500
DESCRIPTION_MAX = 20_000
ALT_MAX = 1_000
# Screen readers read alt text in one go; past about 150 characters a description belongs
# in the description field. This is guidance (a hint), not a rule the server enforces.
ALT_ADVISED = 150
# `copyright` and `creator` are filled from the file's embedded rights at ingest; the form
# shows them so that saving it keeps them.
LICENCE_FIELDS = ("terms", "source", "credit", "copyright", "creator", "url", "valid_until")
LICENCE_STATUS_LABELS = {
    "own": N_("Own work"),
    "licensed": N_("Licensed"),
    "unknown": N_("Unknown"),
}
LICENCE_TEXT_MAX = 500


@dataclass
class FormResult:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    update: AssetUpdate | None = None


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_asset_form(form: Mapping[str, Any]) -> FormResult:
    """The asset page's metadata form -> an AssetUpdate, or the errors per field."""
    names = (
        "title",
        "description",
        "alt_text",
        "tags",
        "licence_status",
        *(f"licence_{n}" for n in LICENCE_FIELDS),
    )
    values = {name: _text(form, name) for name in names}
    errors: dict[str, str] = {}
    if len(values["title"]) > TITLE_MAX:
        errors["title"] = N_("The title can be at most 500 characters long.")
    if len(values["description"]) > DESCRIPTION_MAX:
        errors["description"] = N_("The description can be at most 20,000 characters long.")
    if len(values["alt_text"]) > ALT_MAX:
        errors["alt_text"] = N_("Alt text can be at most 1,000 characters long.")
    tags = split_tags(values["tags"])
    if len(tags) > MAX_TAGS:
        errors["tags"] = N_("An asset can have at most 100 tags.")
    elif any(len(t) > 100 for t in values["tags"].split(",")):
        errors["tags"] = N_("A tag can be at most 100 characters long.")
    licence: dict[str, str] = {}
    for name in LICENCE_FIELDS:
        value = values[f"licence_{name}"]
        if len(value) > LICENCE_TEXT_MAX:
            errors[f"licence_{name}"] = N_("This field can be at most 500 characters long.")
        elif value:
            licence[name] = value
    if licence.get("valid_until"):
        try:
            date.fromisoformat(licence["valid_until"])
        except ValueError:
            errors["licence_valid_until"] = N_("Enter a date like 2026-12-31.")
    if licence.get("url") and not is_web_address(licence["url"]):
        errors["licence_url"] = N_("Enter a web address that starts with https://.")
    status = values["licence_status"] or None
    if status is not None and status not in LICENCE_STATUS_LABELS:
        errors["licence_status"] = N_("Choose own work, licensed or unknown.")
    if errors:
        return FormResult(values, errors)
    update = AssetUpdate(
        title=values["title"],
        description=values["description"],
        alt_text=values["alt_text"],
        tags=tags,
        licence=licence,
        licence_status=LicenceStatus(status) if status else None,
    )
    return FormResult(values, update=update)


def asset_form_values(
    *,
    title: str,
    description: str,
    alt_text: str,
    tags: list[str],
    licence: Mapping[str, Any],
    licence_status: str = "unknown",
) -> dict[str, str]:
    """The form's values for an asset as stored."""
    values = {
        "title": title,
        "description": description,
        "alt_text": alt_text,
        "tags": ", ".join(tags),
        "licence_status": licence_status,
    }
    for name in LICENCE_FIELDS:
        raw = licence.get(name)
        values[f"licence_{name}"] = str(raw) if raw is not None else ""
    return values
