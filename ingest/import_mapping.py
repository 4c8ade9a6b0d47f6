"""A migration's mapping file (TOML or YAML): custom XMP fields of an old DAM -> Beeldbank
fields.

    [namespaces]
    acme = "http://acme.example/ns/1.0/"

    [fields]
    "acme:Project" = "tags"
    "photoshop:Headline" = "title"
    "acme:Photographer" = "licence.credit"
    "acme:ArchiveCode" = "meta.archive_code"

or the same in YAML (`.yaml`, `.yml`; read with PyYAML's safe loader: plain data only):

    namespaces:
      acme: http://acme.example/ns/1.0/
    fields:
      acme:Project: tags
      photoshop:Headline: title

Targets: `title`, `description`, `alt_text`, `tags`, `licence.<field>` (terms, source,
credit, copyright, creator, url) and `meta.<name>` (kept in the asset's metadata). A
mapped value fills the target only where the standard fields left it empty; `tags` and
`meta` add. Pure apart from reading the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dam.errors import N_, InvalidInput, Message
from ingest.archive_xmp import ARCHIVE_NS

TEXT_TARGETS = ("title", "description", "alt_text", "tags")
LICENCE_KEYS = ("terms", "source", "credit", "copyright", "creator", "url")
_NAME = re.compile(r"^[A-Za-z_][\w.-]{0,63}$")
YAML_SUFFIXES = (".yaml", ".yml")
MAX_BYTES = 1024 * 1024  # a mapping is a few dozen lines


@dataclass(frozen=True)
class FieldMapping:
    fields: dict[str, str] = field(default_factory=dict)  # "prefix:Name" -> target
    namespaces: dict[str, str] = field(default_factory=dict)  # "prefix:Name" -> URI

    def apply(self, custom: dict[str, list[str]], into: dict[str, Any]) -> None:
        """Put the mapped values of `custom` (as archive_xmp.parse collected them) into
        `into` (title, description, alt_text, tags, licence, meta)."""
        for key, target in self.fields.items():
            values = custom.get(key) or []
            if not values:
                continue
            if target == "tags":
                into.setdefault("tags", []).extend(values)
            elif target in TEXT_TARGETS:
                if not into.get(target):
                    into[target] = values[0]
            elif target.startswith("licence."):
                licence = into.setdefault("licence", {})
                licence.setdefault(target.removeprefix("licence."), values[0])
            elif target.startswith("meta."):
                into.setdefault("meta", {})[target.removeprefix("meta.")] = (
                    values[0] if len(values) == 1 else values
                )


def parse_mapping(data: object) -> FieldMapping:
    """A mapping from the TOML's or YAML's data; every problem named at once."""
    if not isinstance(data, dict):
        raise InvalidInput('The mapping needs a [fields] table, e.g. "acme:Project" = "tags".')
    problems: list[Message] = []
    declared = data.get("namespaces") or {}
    if not isinstance(declared, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in declared.items()
    ):
        raise InvalidInput("[namespaces] must be a table of prefix = URI.")
    known = {**ARCHIVE_NS, **declared}
    raw = data.get("fields") or {}
    if not isinstance(raw, dict) or not raw:
        raise InvalidInput('The mapping needs a [fields] table, e.g. "acme:Project" = "tags".')
    fields: dict[str, str] = {}
    namespaces: dict[str, str] = {}
    for key, target in raw.items():
        prefix, _, name = str(key).partition(":")
        if not name or not _NAME.match(name):
            problems.append(Message(N_("%(key)s: write a field as prefix:Name"), {"key": key}))
            continue
        if prefix not in known:
            problems.append(
                Message(
                    N_("%(key)s: declare the prefix %(prefix)r under [namespaces]"),
                    {"key": key, "prefix": prefix},
                )
            )
            continue
        if not isinstance(target, str):  # YAML: a list, a table, a number
            target = type(target).__name__
        ok = (
            target in TEXT_TARGETS
            or (target.startswith("licence.") and target[8:] in LICENCE_KEYS)
            or (target.startswith("meta.") and bool(_NAME.match(target[5:])))
        )
        if not ok:
            problems.append(
                Message(
                    N_(
                        "%(key)s: unknown target %(target)r (title, description, alt_text, "
                        "tags, licence.<%(licence)s> or meta.<name>)"
                    ),
                    {"key": key, "target": target, "licence": "|".join(LICENCE_KEYS)},
                )
            )
            continue
        fields[str(key)] = target
        namespaces[str(key)] = known[prefix]
    if problems:
        raise InvalidInput(
            N_("The mapping file has problems: %(problems)s."), params={"problems": problems}
        )
    return FieldMapping(fields, namespaces)


def load_mapping(path: Path) -> FieldMapping:
    """The mapping in `path`: YAML when its name ends in .yaml or .yml, else TOML."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InvalidInput(
                N_("The mapping file %(path)s is larger than a mapping can be."),
                params={"path": str(path)},
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            N_("Cannot read the mapping file %(path)s: %(detail)s"),
            params={"path": str(path), "detail": str(exc)},
        ) from None
    if path.suffix.lower() in YAML_SUFFIXES:
        try:
            data: object = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInput(
                N_("The mapping file %(path)s is not valid YAML: %(detail)s"),
                params={"path": str(path), "detail": str(exc)},
            ) from None
        return parse_mapping(data)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            N_("The mapping file %(path)s is not valid TOML: %(detail)s"),
            params={"path": str(path), "detail": str(exc)},
        ) from None
    return parse_mapping(data)
