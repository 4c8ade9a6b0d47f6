"""What an archive's XMP says beyond the basics: rating, colour label, hierarchical
keywords, alt text and the people named in it, from a sidecar (`photo.jpg.xmp`,
`photo.xmp`, as Lightroom, darktable, digiKam and Bridge write them) or embedded.

Pure: bytes in, an `ArchiveXmp` out; hostile XML is refused by defusedxml, a broken
packet reads as empty. The basic fields (title, description, keywords, creator, rights)
come from `ingest.image.metadata.parse_xmp`, so embedded and sidecar XMP read the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree

from ingest.image.metadata import MAX_TEXT, MAX_XMP_BYTES, NS, parse_xmp

ARCHIVE_NS = {
    **NS,
    "lr": "http://ns.adobe.com/lightroom/1.0/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "digiKam": "http://www.digikam.org/ns/1.0/",
    "MP": "http://ns.microsoft.com/photo/1.2/",
}
_RDF = f"{{{ARCHIVE_NS['rdf']}}}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MAX_PEOPLE = 100


@dataclass(frozen=True)
class Region:
    """A named area of the picture: a person, as a box of the upright image (0..1)."""

    name: str
    x: float
    y: float
    w: float
    h: float


@dataclass
class ArchiveXmp:
    title: str | None = None
    description: str | None = None
    alt_text: str | None = None
    keywords: list[str] = field(default_factory=list)  # flat and hierarchical, as tags
    rating: int | None = None  # -1 (rejected) .. 5
    label: str | None = None  # the colour label ("Red", "Approved", ...)
    creator: str | None = None
    copyright: str | None = None
    credit: str | None = None
    usage_terms: str | None = None
    web_statement: str | None = None
    people: list[str] = field(default_factory=list)  # named in the picture, no area
    regions: list[Region] = field(default_factory=list)  # named, with their area
    custom: dict[str, list[str]] = field(default_factory=dict)  # "prefix:Name" -> values

    def merged_over(self, other: ArchiveXmp) -> ArchiveXmp:
        """These values, with `other`'s where these have none (a sidecar over the file)."""
        out = ArchiveXmp()
        for name in self.__dataclass_fields__:
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(out, name, mine if mine not in (None, [], {}) else theirs)
        return out

    def people_names(self) -> list[str]:
        names = [r.name for r in self.regions] + self.people
        return list(dict.fromkeys(n for n in names if n))[:MAX_PEOPLE]


def parse(packet: bytes | None, custom: dict[str, str] | None = None) -> ArchiveXmp:
    """Read an XMP packet; `custom` maps "prefix:Name" to a namespace URI to collect."""
    out = ArchiveXmp()
    if not packet or len(packet) > MAX_XMP_BYTES:
        return out
    root = _root(packet)
    if root is None:
        return out
    basic = parse_xmp(packet)
    out.title = basic.get("title")
    out.description = basic.get("description")
    out.creator = basic.get("creator")
    out.copyright = basic.get("rights")
    out.credit = basic.get("credit")
    out.usage_terms = basic.get("usage_terms")
    out.web_statement = basic.get("web_statement")
    keywords = list(basic.get("keywords") or [])
    for path in _values(root, "lr", "hierarchicalSubject"):
        # "Places|Belgium|Ghent": every level is a keyword someone chose.
        keywords.extend(part.strip() for part in path.split("|") if part.strip())
    out.keywords = list(dict.fromkeys(keywords))
    alt = _values(root, "Iptc4xmpCore", "AltTextAccessibility")
    out.alt_text = alt[0][:MAX_TEXT] if alt else None
    rating = _values(root, "xmp", "Rating")
    out.rating = _rating(rating[0]) if rating else None
    label = _values(root, "xmp", "Label")
    out.label = label[0][:100] if label else None
    people = _values(root, "Iptc4xmpExt", "PersonInImage")
    people += _values(root, "MP", "PersonDisplayName")
    out.people = list(dict.fromkeys(p[:200] for p in people))[:MAX_PEOPLE]
    out.regions = _regions(root)
    for key, uri in (custom or {}).items():
        prefix, _, name = key.partition(":")
        found = _values(root, prefix, name, uri=uri)
        if found:
            out.custom[key] = found
    return out


def _root(packet: bytes) -> Any | None:
    start = packet.find(b"<x:xmpmeta")
    if start < 0:
        start = packet.find(b"<rdf:RDF")
    end_tag = b"</x:xmpmeta>" if packet.find(b"</x:xmpmeta>") >= 0 else b"</rdf:RDF>"
    end = packet.rfind(end_tag)
    if start < 0 or end < 0:
        return None
    try:
        return ElementTree.fromstring(packet[start : end + len(end_tag)])
    except Exception:
        return None


def _values(root: Any, prefix: str, name: str, *, uri: str | None = None) -> list[str]:
    """A property's values wherever a Description holds it: attribute, text, Bag/Seq/Alt."""
    namespace = uri or ARCHIVE_NS.get(prefix)
    if namespace is None:
        return []
    key = f"{{{namespace}}}{name}"
    values: list[str] = []
    for desc in root.iter(f"{_RDF}Description"):
        if key in desc.attrib:
            values.append(desc.attrib[key])
        for element in desc.findall(key):
            items = list(element.iter(f"{_RDF}li"))
            items.sort(key=lambda li: li.get(_XML_LANG) != "x-default")
            values.extend([li.text or "" for li in items] if items else [element.text or ""])
    return [v.strip() for v in values if v and v.strip()]


def _rating(text: str) -> int | None:
    try:
        value = round(float(text))
    except ValueError:
        return None
    return value if -1 <= value <= 5 else None


def _number(text: str | None) -> float | None:
    if text is None or not re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", text):
        return None
    return float(text)


def _regions(root: Any) -> list[Region]:
    """mwg-rs face regions with a name (digiKam, Lightroom, Picasa write these): the area
    is the centre and size as fractions of the picture (stArea:unit "normalized")."""
    found: list[Region] = []
    regions_key = f"{{{ARCHIVE_NS['mwg-rs']}}}RegionList"
    for region_list in root.iter(regions_key):
        for li in region_list.iter(f"{_RDF}li"):
            region = _region(li)
            if region is not None:
                found.append(region)
    return found[:MAX_PEOPLE]


def _field(element: Any, prefix: str, name: str) -> str | None:
    key = f"{{{ARCHIVE_NS[prefix]}}}{name}"
    for node in element.iter():
        if key in node.attrib:
            return str(node.attrib[key])
        child = node.find(key)
        if child is not None and child.text:
            return str(child.text)
    return None


def _region(li: Any) -> Region | None:
    name = _field(li, "mwg-rs", "Name")
    kind = _field(li, "mwg-rs", "Type")
    if not name or (kind and kind.strip() not in ("Face", "")):
        return None
    unit = _field(li, "stArea", "unit") or "normalized"
    x, y = _number(_field(li, "stArea", "x")), _number(_field(li, "stArea", "y"))
    w, h = _number(_field(li, "stArea", "w")), _number(_field(li, "stArea", "h"))
    if unit != "normalized" or None in (x, y, w, h):
        return None
    assert x is not None and y is not None and w is not None and h is not None
    if not (0 < w <= 1 and 0 < h <= 1):
        return None
    left, top = max(0.0, x - w / 2), max(0.0, y - h / 2)
    return Region(name.strip()[:200], left, top, min(w, 1 - left), min(h, 1 - top))


def as_meta(found: ArchiveXmp) -> dict[str, Any]:
    """The parts an asset keeps in its metadata (`meta`): rating, label, the people named
    (the identity stage turns them into suggestions) and custom fields."""
    out: dict[str, Any] = {}
    if found.rating is not None:
        out["rating"] = found.rating
    if found.label:
        out["label"] = found.label
    if found.regions or found.people:
        out["named_people"] = {
            "regions": [
                {"name": r.name, "box": {"x": r.x, "y": r.y, "w": r.w, "h": r.h}}
                for r in found.regions
            ],
            "names": found.people,
        }
    return out
