"""Metadata that travels with a downloaded file: XMP, and IPTC IIM and EXIF where the
format has them, written by pyexiv2 (libexiv2).

Written: title, description, alt text (IPTC Extension AltTextAccessibility), keywords,
creator, credit line, copyright notice, usage terms, licence URL (xmpRights:WebStatement),
the Beeldbank asset id and link. A rendered file starts without any metadata of its
camera (its pixels are upright, orientation 1), so GPS, serial numbers and maker notes
are gone unless a channel keeps GPS (`gps`). An original sent as stored keeps its
pixels: `scrub_original` removes location and device identifiers from it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import pyexiv2
from PIL import Image

NAMESPACE = "https://beeldbank.vlaanderen.be/ns/1.0/"
PREFIX = "beeldbank"
IIM_FORMATS = frozenset({"jpeg", "tiff"})  # where IPTC IIM belongs (PNG/WebP: XMP only)
WRITABLE = frozenset({"jpeg", "tiff", "png", "webp"})  # pyexiv2 writes these in place
# Device identifiers and location, in every family exiv2 knows them by.
SCRUBBED_PREFIXES = ("Exif.GPSInfo.", "Exif.Photo.MakerNote", "Xmp.exif.GPS")
SCRUBBED_WORDS = ("SerialNumber", "Serial", "OwnerName", "CameraOwnerName", "ImageUniqueID")
SCRUBBED_FAMILIES = ("Exif.Image.", "Exif.Photo.", "Exif.Iop.", "Exif.Thumbnail.", "Xmp.", "Iptc.")
_LOCK = threading.Lock()
_registered = False


@dataclass(frozen=True)
class FileMetadata:
    title: str = ""
    description: str = ""
    alt_text: str = ""
    keywords: tuple[str, ...] = ()
    creator: str = ""
    credit: str = ""
    copyright: str = ""
    usage_terms: str = ""
    licence_url: str = ""
    asset_id: str = ""
    link: str = ""
    gps: tuple[float, float] | None = None  # only when the channel keeps it
    extra: dict[str, str] = field(default_factory=dict)


def _alt(text: str) -> dict[str, str]:
    return {'lang="x-default"': text}


def _register() -> None:
    global _registered
    with _LOCK:
        if not _registered:
            pyexiv2.registerNs(NAMESPACE, PREFIX)
            _registered = True


def xmp_values(meta: FileMetadata) -> dict[str, Any]:
    """The XMP properties for `meta` (empty ones left out)."""
    values: dict[str, Any] = {
        "Xmp.dc.title": _alt(meta.title) if meta.title else None,
        "Xmp.dc.description": _alt(meta.description) if meta.description else None,
        "Xmp.iptcExt.AltTextAccessibility": _alt(meta.alt_text) if meta.alt_text else None,
        "Xmp.dc.subject": list(meta.keywords) or None,
        "Xmp.dc.creator": [meta.creator] if meta.creator else None,
        "Xmp.photoshop.Credit": meta.credit or None,
        "Xmp.dc.rights": _alt(meta.copyright) if meta.copyright else None,
        "Xmp.xmpRights.UsageTerms": _alt(meta.usage_terms) if meta.usage_terms else None,
        "Xmp.xmpRights.WebStatement": meta.licence_url or None,
        "Xmp.dc.identifier": meta.asset_id or None,
        f"Xmp.{PREFIX}.AssetId": meta.asset_id or None,
        f"Xmp.{PREFIX}.AssetLink": meta.link or None,
        "Xmp.dc.source": meta.link or None,
    }
    return {k: v for k, v in values.items() if v is not None}


def _iim(text: str, limit: int) -> str:
    """`text` within an IIM field's `limit` in bytes (UTF-8), cut after a whole word when
    it is longer: "Vlaamse overheid, afdeling", not "Vlaamse overheid, afdeling Commu"."""
    data = text.encode()
    if len(data) <= limit:
        return text
    cut = data[: limit + 1].decode(errors="ignore")
    head, space, _ = cut.rpartition(" ")
    kept = head if space and head.strip() else data[:limit].decode(errors="ignore")
    return kept.rstrip(" ,;:·-–")


def iptc_values(meta: FileMetadata) -> dict[str, Any]:
    values: dict[str, Any] = {
        "Iptc.Envelope.CharacterSet": "\x1b%G",  # UTF-8
        "Iptc.Application2.ObjectName": _iim(meta.title, 64) or None,
        "Iptc.Application2.Caption": _iim(meta.description, 2000) or None,
        "Iptc.Application2.Keywords": [_iim(k, 64) for k in meta.keywords] or None,
        "Iptc.Application2.Byline": [_iim(meta.creator, 32)] if meta.creator else None,
        "Iptc.Application2.Credit": _iim(meta.credit, 32) or None,
        "Iptc.Application2.Copyright": _iim(meta.copyright, 128) or None,
    }
    return {k: v for k, v in values.items() if v is not None}


def _dms(value: float) -> str:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 10000)
    return f"{degrees}/1 {minutes}/1 {seconds}/10000"


def exif_values(meta: FileMetadata) -> dict[str, Any]:
    values: dict[str, Any] = {
        "Exif.Image.ImageDescription": meta.description or meta.title or None,
        "Exif.Image.Artist": meta.creator or None,
        "Exif.Image.Copyright": meta.copyright or None,
        "Exif.Image.Orientation": "1",
    }
    if meta.gps is not None:
        lat, lon = meta.gps
        values |= {
            "Exif.GPSInfo.GPSVersionID": "2 3 0 0",
            "Exif.GPSInfo.GPSLatitudeRef": "N" if lat >= 0 else "S",
            "Exif.GPSInfo.GPSLatitude": _dms(lat),
            "Exif.GPSInfo.GPSLongitudeRef": "E" if lon >= 0 else "W",
            "Exif.GPSInfo.GPSLongitude": _dms(lon),
        }
    return {k: v for k, v in values.items() if v is not None}


def write(path: Path, fmt: str, meta: FileMetadata) -> None:
    """Write `meta` into the file at `path` (a JPEG, TIFF, PNG or WebP) in place."""
    _register()
    with pyexiv2.Image(str(path)) as img:
        _modify(img, fmt, meta)


def written(data: bytes, fmt: str, meta: FileMetadata) -> bytes:
    """The file `data` (a JPEG, TIFF, PNG or WebP) with `meta` written into it, in memory:
    what `write` makes of the same file, without rewriting a file once per family."""
    _register()
    with pyexiv2.ImageData(data) as img:
        _modify(img, fmt, meta)
        result: bytes = img.get_bytes()
        return result


def _modify(img: pyexiv2.Image, fmt: str, meta: FileMetadata) -> None:
    img.modify_exif(exif_values(meta))
    if fmt in IIM_FORMATS:
        img.modify_iptc(iptc_values(meta))
    img.modify_xmp(xmp_values(meta))


_PACKET_BASE: bytes | None = None


def xmp_packet(meta: FileMetadata) -> bytes:
    """The XMP packet for `meta` as bytes, for formats pyexiv2 cannot write in place
    (AVIF: Pillow embeds the packet while encoding)."""
    global _PACKET_BASE
    _register()
    if _PACKET_BASE is None:
        out = BytesIO()
        Image.new("L", (1, 1)).save(out, "JPEG")
        _PACKET_BASE = out.getvalue()
    with pyexiv2.ImageData(_PACKET_BASE) as img:
        img.modify_xmp(xmp_values(meta))
        return img.read_raw_xmp().encode()


def scrub_original(path: Path, meta: FileMetadata) -> bool:
    """Remove location and device identifiers from an original's copy at `path` and add
    `meta`; False when the format cannot be written (the copy is then left as it is)."""
    _register()
    try:
        img = pyexiv2.Image(str(path))
    except RuntimeError:
        return False
    try:
        exif = img.read_exif()
        xmp = img.read_xmp()
        img.modify_exif({k: None for k in exif if _identifying(k)})
        img.modify_xmp({k: None for k in xmp if _identifying(k)})
        # A JPEG comment is free text a camera or an editor wrote: serial numbers, names.
        img.clear_comment()
        img.modify_exif(
            {k: v for k, v in exif_values(meta).items() if k != "Exif.Image.Orientation"}
        )
        img.modify_iptc(iptc_values(meta))
        img.modify_xmp(xmp_values(meta))
    except RuntimeError:
        return False
    finally:
        img.close()
    return True


def _identifying(key: str) -> bool:
    if key.startswith(SCRUBBED_PREFIXES):
        return True
    if not key.startswith(SCRUBBED_FAMILIES):  # maker-specific families (Exif.Canon...)
        return key.startswith("Exif.")
    name = key.rsplit(".", 1)[-1]
    return any(word in name for word in SCRUBBED_WORDS)
