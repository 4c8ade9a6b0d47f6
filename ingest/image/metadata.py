"""Descriptive and technical metadata from EXIF, IPTC and XMP.

`read_raw` is the only part that touches Pillow; `build` is pure, so the precedence rules
(XMP over IPTC over EXIF, as the Metadata Working Group recommends) are tested on tables.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from defusedxml import ElementTree
from PIL import Image, IptcImagePlugin

MAX_TEXT = 2000
# Photoshop's document-ancestry lists can bloat XMP to megabytes; past this size a packet is
# not parsed at all, which bounds the parser's time and memory on hostile input.
MAX_XMP_BYTES = 16 * 1024 * 1024

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "exifEX": "http://cipa.jp/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "aux": "http://ns.adobe.com/exif/1.0/aux/",
}

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# EXIF tag numbers (CIPA DC-008).
IFD0 = {
    "description": 0x010E,
    "make": 0x010F,
    "model": 0x0110,
    "software": 0x0131,
    "artist": 0x013B,
    "copyright": 0x8298,
    "datetime": 0x0132,
}
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
EXIF = {
    "datetime_original": 0x9003,
    "offset_original": 0x9011,
    "offset": 0x9010,
    "lens_make": 0xA433,
    "lens_model": 0xA434,
    "exposure_time": 0x829A,
    "f_number": 0x829D,
    "iso": 0x8827,
    "focal_length": 0x920A,
}
# IPTC IIM datasets (record 2).
IPTC = {
    "object_name": (2, 5),
    "keywords": (2, 25),
    "date_created": (2, 55),
    "time_created": (2, 60),
    "byline": (2, 80),
    "headline": (2, 105),
    "credit": (2, 110),
    "copyright": (2, 116),
    "caption": (2, 120),
}


@dataclass
class RawMetadata:
    ifd0: dict[int, Any] = field(default_factory=dict)
    exif: dict[int, Any] = field(default_factory=dict)
    gps: dict[int, Any] = field(default_factory=dict)
    iptc: dict[tuple[int, int], Any] = field(default_factory=dict)
    xmp: bytes | None = None


@dataclass
class ImageMetadata:
    title: str | None = None
    description: str | None = None
    keywords: list[str] = field(default_factory=list)
    creator: str | None = None
    copyright: str | None = None
    credit: str | None = None
    usage_terms: str | None = None
    web_statement: str | None = None  # xmpRights:WebStatement: where the licence is
    taken_at: datetime | None = None
    taken_at_offset_min: int | None = None
    camera: str | None = None
    lens: str | None = None
    software: str | None = None
    exposure_time: str | None = None
    f_number: float | None = None
    iso: int | None = None
    focal_length_mm: float | None = None
    gps: dict[str, float] | None = None

    def as_json(self) -> dict[str, Any]:
        """The API's `metadata` object (capture time lives on the asset itself)."""
        skip = ("taken_at", "taken_at_offset_min")
        return {k: v for k, v in self.__dict__.items() if k not in skip}


# Embedded rights -> the licence record's fields (IPTC Photo Metadata: Copyright Notice,
# Credit Line, Web Statement of Rights, Rights Usage Terms, Creator).
_LICENCE_FROM = (
    ("copyright", "copyright"),
    ("credit", "credit"),
    ("terms", "usage_terms"),
    ("url", "web_statement"),
    ("creator", "creator"),
)


def licence_fields(meta: ImageMetadata | dict[str, Any]) -> dict[str, str]:
    """The licence record's fields the embedded rights fill (never the status: a notice
    says who owns a picture, not that the team may use it)."""
    values = meta if isinstance(meta, dict) else meta.__dict__
    out: dict[str, str] = {}
    for target, source in _LICENCE_FROM:
        value = values.get(source)
        if isinstance(value, str) and value.strip():
            if target == "url" and not value.strip().lower().startswith(("http://", "https://")):
                continue
            out[target] = value.strip()[:500]
    return out


def fill_licence(record: dict[str, Any] | None, embedded: dict[str, str]) -> dict[str, Any]:
    """The licence record with the embedded rights in the fields nobody filled (what a
    person entered is never overwritten)."""
    merged = dict(record or {})
    for key, value in embedded.items():
        if not merged.get(key):
            merged[key] = value
    return merged


def xmp_licence(packet: bytes) -> dict[str, str]:
    """The licence record's fields an XMP packet's rights fill (as a photo's)."""
    xmp = parse_xmp(packet)
    return licence_fields(
        {
            "copyright": xmp.get("rights"),
            "credit": xmp.get("credit"),
            "usage_terms": xmp.get("usage_terms"),
            "web_statement": xmp.get("web_statement"),
            "creator": xmp.get("creator"),
        }
    )


def read_raw(image: Image.Image) -> RawMetadata:
    """Collect the raw EXIF, IPTC and XMP blocks; a broken block is skipped, not fatal."""
    raw = RawMetadata()
    # Each block on its own: a damaged GPS directory must not cost the camera or the caption.
    # Metadata is optional; the pixels still count.
    exif = Image.Exif()
    with contextlib.suppress(Exception):
        exif = image.getexif()
        raw.ifd0 = dict(exif)
    with contextlib.suppress(Exception):
        raw.exif = dict(exif.get_ifd(EXIF_IFD))
    with contextlib.suppress(Exception):
        raw.gps = dict(exif.get_ifd(GPS_IFD))
    with contextlib.suppress(Exception):
        raw.iptc = dict(IptcImagePlugin.getiptcinfo(image) or {})  # type: ignore[arg-type]
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    if xmp is None and 700 in raw.ifd0 and isinstance(raw.ifd0[700], bytes):
        xmp = raw.ifd0[700]
    raw.xmp = xmp if isinstance(xmp, bytes) else None
    return raw


def build(raw: RawMetadata) -> ImageMetadata:
    """Merge the three sources, XMP first, then IPTC, then EXIF."""
    xmp = parse_xmp(raw.xmp) if raw.xmp else {}
    iptc = {name: raw.iptc.get(key) for name, key in IPTC.items()}
    meta = ImageMetadata()
    meta.title = _first(xmp.get("title"), _text(iptc["object_name"]), _text(iptc["headline"]))
    meta.description = _first(
        xmp.get("description"), _text(iptc["caption"]), _text(raw.ifd0.get(IFD0["description"]))
    )
    meta.keywords = _dedupe(xmp.get("keywords") or _texts(iptc["keywords"]))
    meta.creator = _first(
        xmp.get("creator"), _text(iptc["byline"]), _text(raw.ifd0.get(IFD0["artist"]))
    )
    meta.copyright = _first(
        xmp.get("rights"), _text(iptc["copyright"]), _text(raw.ifd0.get(IFD0["copyright"]))
    )
    meta.credit = _first(xmp.get("credit"), _text(iptc["credit"]))
    meta.usage_terms = _first(xmp.get("usage_terms"))
    meta.web_statement = _first(xmp.get("web_statement"))
    make, model = _text(raw.ifd0.get(IFD0["make"])), _text(raw.ifd0.get(IFD0["model"]))
    meta.camera = _first(_camera(make, model), _camera(xmp.get("make"), xmp.get("model")))
    meta.lens = _first(_text(raw.exif.get(EXIF["lens_model"])), xmp.get("lens"))
    meta.software = _text(raw.ifd0.get(IFD0["software"]))
    meta.exposure_time = _exposure(raw.exif.get(EXIF["exposure_time"]))
    meta.f_number = _number(raw.exif.get(EXIF["f_number"]))
    meta.iso = _integer(raw.exif.get(EXIF["iso"]))
    meta.focal_length_mm = _number(raw.exif.get(EXIF["focal_length"]))
    meta.gps = _valid_gps(_exif_gps(raw.gps)) or _valid_gps(xmp.get("gps"))
    taken = (
        _exif_time(
            raw.exif.get(EXIF["datetime_original"]),
            raw.exif.get(EXIF["offset_original"]) or raw.exif.get(EXIF["offset"]),
        )
        or _iso_time(xmp.get("date_created"))
        or _iptc_time(iptc["date_created"], iptc["time_created"])
    )
    if taken is not None:
        meta.taken_at = taken
        offset = taken.utcoffset()
        meta.taken_at_offset_min = int(offset.total_seconds() // 60) if offset is not None else None
    return meta


# --- XMP -------------------------------------------------------------------------------


def parse_xmp(packet: bytes) -> dict[str, Any]:
    """The fields Beeldbank uses from an XMP packet; hostile XML is refused (defusedxml)."""
    if len(packet) > MAX_XMP_BYTES:
        return {}
    try:
        start = packet.find(b"<x:xmpmeta")
        if start < 0:
            start = packet.find(b"<rdf:RDF")
        end_tag = b"</x:xmpmeta>" if packet.find(b"</x:xmpmeta>") >= 0 else b"</rdf:RDF>"
        end = packet.find(end_tag)
        if start < 0 or end < 0:
            return {}
        root = ElementTree.fromstring(packet[start : end + len(end_tag)])
    except Exception:
        return {}
    out: dict[str, Any] = {}

    def prop(ns: str, name: str) -> list[str]:
        key = f"{{{NS[ns]}}}{name}"
        values: list[str] = []
        for desc in root.iter(f"{{{NS['rdf']}}}Description"):
            if key in desc.attrib:
                values.append(desc.attrib[key])
            for el in desc.findall(key):
                items = list(el.iter(f"{{{NS['rdf']}}}li"))
                # A language alternative lists the default language first, wherever it is.
                items.sort(key=lambda li: li.get(_XML_LANG) != "x-default")
                values.extend([li.text or "" for li in items] if items else [el.text or ""])
        return [v.strip() for v in values if v and v.strip()]

    for target, ns, name in (
        ("title", "dc", "title"),
        ("description", "dc", "description"),
        ("creator", "dc", "creator"),
        ("rights", "dc", "rights"),
        ("credit", "photoshop", "Credit"),
        ("usage_terms", "xmpRights", "UsageTerms"),
        ("web_statement", "xmpRights", "WebStatement"),
        ("make", "tiff", "Make"),
        ("model", "tiff", "Model"),
        ("lens", "exifEX", "LensModel"),
    ):
        values = prop(ns, name)
        if values:
            out[target] = values[0][:MAX_TEXT]
    if "lens" not in out and (lens := prop("aux", "Lens")):
        out["lens"] = lens[0]
    keywords = prop("dc", "subject")
    if keywords:
        out["keywords"] = keywords
    dates = (("photoshop", "DateCreated"), ("exif", "DateTimeOriginal"), ("xmp", "CreateDate"))
    for ns, name in dates:
        if values := prop(ns, name):
            out["date_created"] = values[0]
            break
    lat, lon = prop("exif", "GPSLatitude"), prop("exif", "GPSLongitude")
    if lat and lon:
        parsed = (_xmp_coordinate(lat[0]), _xmp_coordinate(lon[0]))
        if parsed[0] is not None and parsed[1] is not None:
            out["gps"] = {"lat": parsed[0], "lon": parsed[1]}
    return out


def _xmp_coordinate(value: str) -> float | None:
    """XMP GPS coordinates look like '51,3.123N' or '51,3,7.4N' (some tools: '51.0521N')."""
    number = r"(\d+(?:\.\d+)?)"
    match = re.fullmatch(rf"\s*{number}(?:,{number})?(?:,{number})?([NSEW])\s*", value)
    if not match:
        return None
    degrees = float(match[1]) + float(match[2] or 0) / 60 + float(match[3] or 0) / 3600
    return -degrees if match[4] in "SW" else degrees


# --- small converters -----------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")  # repaired to UTF-8 below when it is UTF-8
    text = _undo_latin1(str(value)).replace("\x00", "").strip()
    text = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")
    return text[:MAX_TEXT] or None


def _undo_latin1(text: str) -> str:
    """Pillow reads EXIF ASCII fields as Latin-1, but cameras, phones and exiftool write
    UTF-8 there, so '©' arrives as 'Â©'. Text that re-encodes to valid UTF-8 was UTF-8; real
    Latin-1 text almost never forms valid multi-byte UTF-8 sequences."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [t for t in (_text(v) for v in items) if t]


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def _dedupe(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for v in values:
        seen.setdefault(v.casefold(), v[:100])
    return list(seen.values())[:200]


def _camera(make: str | None, model: str | None) -> str | None:
    if make and model and model.lower().startswith(make.lower().split()[0]):
        return model
    return " ".join(p for p in (make, model) if p) or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return round(number, 2) if number == number and abs(number) < 1e9 else None


def _integer(value: Any) -> int | None:
    """A count such as ISO; EXIF may store it as a list of values, of which the first counts."""
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    number = _number(value)
    return int(number) if number is not None and number > 0 else None


def _exposure(value: Any) -> str | None:
    seconds = _number(value)
    if not seconds or seconds <= 0:
        return None
    return f"1/{round(1 / seconds)}" if seconds < 1 else f"{seconds:g}"


def _exif_gps(gps: dict[int, Any]) -> dict[str, float] | None:
    try:
        lat = _dms(gps[2]) * (-1 if str(gps.get(1, "N")).upper().startswith("S") else 1)
        lon = _dms(gps[4]) * (-1 if str(gps.get(3, "E")).upper().startswith("W") else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    return {"lat": round(lat, 7), "lon": round(lon, 7)}


def _dms(parts: Any) -> float:
    d, m, s = (float(p) for p in parts)
    return d + m / 60 + s / 3600


def _valid_gps(gps: dict[str, float] | None) -> dict[str, float] | None:
    if not gps:
        return None
    lat, lon = gps["lat"], gps["lon"]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None  # (0, 0) is what cameras write when they had no fix
    return {"lat": round(lat, 7), "lon": round(lon, 7)}


def _offset(value: Any) -> timezone | None:
    text = _text(value)
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", text or "")
    if not match:
        return None
    minutes = int(match[2]) * 60 + int(match[3])
    if minutes > 14 * 60:
        return None
    return timezone(timedelta(minutes=minutes if match[1] == "+" else -minutes))


def _exif_time(value: Any, offset: Any) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = _offset(offset)
    return moment.replace(tzinfo=zone) if zone else moment


def _iso_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _iptc_time(date: Any, time: Any) -> datetime | None:
    d = _text(date)
    if not d or not re.fullmatch(r"\d{8}", d):
        return None
    t = _text(time) or "000000"
    match = re.fullmatch(r"(\d{6})([+-]\d{4})?", t)
    try:
        moment = datetime.strptime(d + (match[1] if match else "000000"), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    zone = _offset(match[2]) if match and match[2] else None
    return moment.replace(tzinfo=zone) if zone else moment
