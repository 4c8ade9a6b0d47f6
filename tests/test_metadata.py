"""EXIF, IPTC and XMP: reading real files, the merge rules, and hostile metadata."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from PIL import Image, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational

from ingest.demo import exif_block, jpeg_bytes, scene, xmp_packet
from ingest.image import metadata
from ingest.image.metadata import EXIF, IFD0, IPTC, RawMetadata, build, parse_xmp, read_raw
from tests.conftest import Account

BRUSSELS = ZoneInfo("Europe/Brussels")


def meta_of(data: bytes) -> metadata.ImageMetadata:
    with Image.open(io.BytesIO(data)) as image:
        return build(read_raw(image))


def small_jpeg(**kwargs: object) -> bytes:
    return jpeg_bytes(scene(64, 48, seed=3), **kwargs)  # type: ignore[arg-type]


def upload(client: TestClient, account: Account, data: bytes) -> dict:
    response = client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": ("photo.jpg", data, "application/octet-stream")},
    )
    assert response.status_code == 201, response.text
    asset_id = response.json()["id"]
    return client.get(f"/api/v1/assets/{asset_id}", headers=account.headers).json()


# --- precedence: XMP over IPTC over EXIF (Metadata Working Group guidance) ----------------

FULL = {
    "xmp": xmp_packet(
        title="XMP title",
        description="XMP description",
        creator="XMP creator",
        rights="XMP rights",
        keywords=["xmp"],
    ),
    "iptc": {
        IPTC["object_name"]: "IPTC title",
        IPTC["caption"]: "IPTC caption",
        IPTC["byline"]: "IPTC byline",
        IPTC["copyright"]: "IPTC copyright",
        IPTC["keywords"]: ["iptc"],
    },
    "ifd0": {
        IFD0["description"]: "EXIF description",
        IFD0["artist"]: "EXIF artist",
        IFD0["copyright"]: "EXIF copyright",
    },
}


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (
            ("xmp", "iptc", "ifd0"),
            ("XMP title", "XMP description", "XMP creator", "XMP rights", ["xmp"]),
        ),
        (
            ("iptc", "ifd0"),
            ("IPTC title", "IPTC caption", "IPTC byline", "IPTC copyright", ["iptc"]),
        ),
        (("ifd0",), (None, "EXIF description", "EXIF artist", "EXIF copyright", [])),
        (("xmp", "ifd0"), ("XMP title", "XMP description", "XMP creator", "XMP rights", ["xmp"])),
        ((), (None, None, None, None, [])),
    ],
)
def test_xmp_wins_over_iptc_which_wins_over_exif(
    sources: tuple[str, ...], expected: tuple[object, ...]
) -> None:
    raw = RawMetadata(
        ifd0=dict(FULL["ifd0"]) if "ifd0" in sources else {},  # type: ignore[arg-type]
        iptc=_iptc_bytes(FULL["iptc"]) if "iptc" in sources else {},  # type: ignore[arg-type]
        xmp=FULL["xmp"] if "xmp" in sources else None,  # type: ignore[arg-type]
    )
    meta = build(raw)
    assert (meta.title, meta.description, meta.creator, meta.copyright, meta.keywords) == expected


def _iptc_bytes(fields: dict[tuple[int, int], str | list[str]]) -> dict:
    """IPTC values as Pillow returns them: bytes, or a list of bytes for repeated datasets."""
    return {
        key: [v.encode() for v in value] if isinstance(value, list) else value.encode()
        for key, value in fields.items()
    }


def test_all_three_blocks_are_read_from_a_real_jpeg() -> None:
    data = small_jpeg(
        exif=exif_block(make="Canon", model="Canon EOS R6", lens="RF24-105mm", artist="EXIF"),
        iptc={IPTC["object_name"]: "IPTC title", IPTC["keywords"]: ["Haven", "Antwerpen"]},
        xmp=xmp_packet(
            creator="Team Communicatie", credit="Vlaamse overheid", usage_terms="Enkel redactioneel"
        ),
    )
    meta = meta_of(data)
    assert meta.title == "IPTC title"  # XMP has none, so IPTC's counts
    assert meta.keywords == ["Haven", "Antwerpen"]
    assert meta.creator == "Team Communicatie"
    assert meta.credit == "Vlaamse overheid"
    assert meta.usage_terms == "Enkel redactioneel"
    assert meta.camera == "Canon EOS R6"  # the make is not repeated
    assert meta.lens == "RF24-105mm"


def test_language_alternatives_prefer_the_default_language() -> None:
    packet = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt>'
        b'<rdf:li xml:lang="fr">Le port</rdf:li><rdf:li xml:lang="x-default">De haven</rdf:li>'
        b"</rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    assert parse_xmp(packet)["title"] == "De haven"


@pytest.mark.parametrize(
    ("xmp", "iptc", "expected"),
    [
        (["Gent", "gent", " GENT ", "Zomer", "zomer"], None, ["Gent", "Zomer"]),
        (None, ["Fietsen", "fietsen", "Graslei"], ["Fietsen", "Graslei"]),
        (["xmp only"], ["iptc ignored when XMP has keywords"], ["xmp only"]),
        (None, ["a" * 150], ["a" * 100]),  # keywords are capped at 100 characters
    ],
)
def test_keywords_are_deduplicated_case_insensitively(
    xmp: list[str] | None, iptc: list[str] | None, expected: list[str]
) -> None:
    data = small_jpeg(
        xmp=xmp_packet(keywords=xmp) if xmp else None,
        iptc={IPTC["keywords"]: iptc} if iptc else None,
    )
    assert meta_of(data).keywords == expected


# --- metadata in every accepted format ----------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "AVIF", "HEIF", "TIFF"])
def test_exif_and_xmp_are_read_from_other_formats(fmt: str) -> None:
    exif = exif_block(
        make="Nikon", model="Z 6", taken=datetime(2026, 5, 4, 8, 15), gps=(51.2194, 4.4025)
    )
    packet = xmp_packet(title="Schelde", keywords=["rivier"])
    options: dict[str, object] = {"exif": exif.tobytes()}
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet.decode())
        options["pnginfo"] = info
    elif fmt != "TIFF":  # Pillow's TIFF writer drops the EXIF sub-IFDs next to an XMP tag
        options["xmp"] = packet
    buffer = io.BytesIO()
    scene(64, 48, seed=4).save(buffer, fmt, **options)
    meta = meta_of(buffer.getvalue())
    assert meta.camera == "Nikon Z 6"
    assert meta.taken_at == datetime(2026, 5, 4, 8, 15)
    assert meta.gps == pytest.approx({"lat": 51.2194, "lon": 4.4025}, abs=1e-4)
    if fmt != "TIFF":
        assert (meta.title, meta.keywords) == ("Schelde", ["rivier"])


# --- capture time --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # OffsetTimeOriginal gives the zone the camera was set to.
        (
            RawMetadata(
                exif={
                    EXIF["datetime_original"]: "2026:07:01 12:00:00",
                    EXIF["offset_original"]: "+05:30",
                }
            ),
            datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        # Without it, OffsetTime (of the last change) is the next best guess.
        (
            RawMetadata(
                exif={EXIF["datetime_original"]: "2026:01:10 08:00:00", EXIF["offset"]: "-03:00"}
            ),
            datetime(2026, 1, 10, 8, 0, tzinfo=timezone(timedelta(hours=-3))),
        ),
        # No offset at all: a naive time, which the probe stage places in the default zone.
        (
            RawMetadata(exif={EXIF["datetime_original"]: "2026:07:01 12:00:00"}),
            datetime(2026, 7, 1, 12, 0),
        ),
        # A nonsense offset is ignored rather than trusted.
        (
            RawMetadata(
                exif={
                    EXIF["datetime_original"]: "2026:07:01 12:00:00",
                    EXIF["offset_original"]: "+99:00",
                }
            ),
            datetime(2026, 7, 1, 12, 0),
        ),
        # XMP and IPTC stand in when EXIF has no capture time.
        (
            RawMetadata(
                xmp=(
                    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/'
                    b'1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:photoshop="http://ns.adobe'
                    b'.com/photoshop/1.0/" photoshop:DateCreated="2026-03-02T10:20:30+01:00"/>'
                    b"</rdf:RDF></x:xmpmeta>"
                )
            ),
            datetime(2026, 3, 2, 10, 20, 30, tzinfo=timezone(timedelta(hours=1))),
        ),
        (
            RawMetadata(
                iptc={IPTC["date_created"]: b"20260302", IPTC["time_created"]: b"102030+0100"}
            ),
            datetime(2026, 3, 2, 10, 20, 30, tzinfo=timezone(timedelta(hours=1))),
        ),
        (RawMetadata(exif={EXIF["datetime_original"]: "0000:00:00 00:00:00"}), None),
        (RawMetadata(exif={EXIF["datetime_original"]: "    :  :     :  :  "}), None),
    ],
)
def test_capture_time_and_its_offset(raw: RawMetadata, expected: datetime | None) -> None:
    meta = build(raw)
    assert meta.taken_at == expected
    if expected is not None:
        assert (meta.taken_at.tzinfo is None) == (expected.tzinfo is None)  # type: ignore[union-attr]
        offset = expected.utcoffset()
        minutes = None if offset is None else int(offset.total_seconds() // 60)
        assert meta.taken_at_offset_min == minutes


@pytest.mark.parametrize(
    ("taken", "instant"),
    [
        # Naive camera times are read as Brussels time, summer and winter alike.
        (datetime(2026, 7, 1, 12, 0), datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),
        (datetime(2026, 1, 15, 12, 0), datetime(2026, 1, 15, 11, 0, tzinfo=UTC)),
        # A time with its own offset keeps it.
        (
            datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=-4))),
            datetime(2026, 7, 1, 16, 0, tzinfo=UTC),
        ),
    ],
)
def test_probe_stage_stores_the_capture_moment(
    client: TestClient, creative: Account, taken: datetime, instant: datetime
) -> None:
    asset = upload(client, creative, small_jpeg(exif=exif_block(taken=taken)))
    assert asset["status"] == "ready", asset["error"]
    stored = datetime.fromisoformat(asset["taken_at"])
    assert stored == instant
    if taken.tzinfo is not None:
        assert stored.utcoffset() == taken.utcoffset()  # shown in the camera's own zone
    else:
        assert taken.replace(tzinfo=BRUSSELS) == stored


# --- GPS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "place",
    [
        (51.0543, 3.7174),  # Gent: N, E
        (-33.8568, 151.2153),  # Sydney: S, E
        (40.6892, -74.0445),  # New York: N, W
        (-22.9519, -43.2105),  # Rio de Janeiro: S, W
        (0.5, -0.25),  # near, but not at, the null island a camera without a fix writes
    ],
)
def test_exif_gps_signs_follow_the_hemisphere_references(place: tuple[float, float]) -> None:
    meta = meta_of(small_jpeg(exif=exif_block(gps=place)))
    assert meta.gps == pytest.approx({"lat": place[0], "lon": place[1]}, abs=1e-5)


def test_gps_at_exactly_zero_zero_means_no_fix() -> None:
    assert meta_of(small_jpeg(exif=exif_block(gps=(0.0, 0.0)))).gps is None


def _xmp_gps(lat: str, lon: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="{lat}">'
        f"<exif:GPSLongitude>{lon}</exif:GPSLongitude></rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        ("51,3.258N", "3,43.044E", (51.0543, 3.7174)),  # degrees, decimal minutes
        ("33,51,24.48S", "151,12,55.08E", (-33.8568, 151.2153)),  # degrees, minutes, seconds
        ("40,41.352N", "74,2.67W", (40.6892, -74.0445)),
        ("22.9519S", "43.2105W", (-22.9519, -43.2105)),  # decimal degrees, as some tools write
        ("91,0.0N", "3,0.0E", None),  # off the globe
        ("51.05", "3.71", None),  # no hemisphere: ambiguous, so ignored
    ],
)
def test_xmp_gps_form(lat: str, lon: str, expected: tuple[float, float] | None) -> None:
    gps = build(RawMetadata(xmp=_xmp_gps(lat, lon))).gps
    if expected is None:
        assert gps is None
    else:
        assert gps == pytest.approx({"lat": expected[0], "lon": expected[1]}, abs=1e-4)


def test_exif_gps_wins_over_xmp_gps() -> None:
    data = small_jpeg(
        exif=exif_block(gps=(51.0543, 3.7174)), xmp=_xmp_gps("40,41.352N", "74,2.67W")
    )
    assert meta_of(data).gps == pytest.approx({"lat": 51.0543, "lon": 3.7174}, abs=1e-5)


# --- hostile metadata -----------------------------------------------------------------------

LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "lol"}">' for i in range(10))
HOSTILE_XMP = {
    "billion laughs": (
        f'<?xml version="1.0"?><!DOCTYPE x:xmpmeta [{LAUGHS}]>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt>'
        '<rdf:li xml:lang="x-default">&lol9;</rdf:li></rdf:Alt></dc:title>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ),
    "external entity": (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&xxe;</dc:title>'
        "</rdf:Description></rdf:RDF>"
    ),
    "entity declared inside the packet": (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'
    ),
    "not XML at all": "<x:xmpmeta \x00\x01 garbage </x:xmpmeta>",
    "unclosed": '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>',
}


@pytest.mark.parametrize("packet", HOSTILE_XMP.values(), ids=HOSTILE_XMP.keys())
def test_hostile_xmp_is_ignored_quickly(packet: str) -> None:
    began = time.perf_counter()
    parsed = parse_xmp(packet.encode())
    assert time.perf_counter() - began < 1.0
    assert parsed == {}


def test_hostile_xmp_does_not_cost_the_other_metadata() -> None:
    data = small_jpeg(
        exif=exif_block(make="Fujifilm", model="X-T5"),
        xmp=HOSTILE_XMP["billion laughs"].encode(),
    )
    meta = meta_of(data)
    assert meta.camera == "Fujifilm X-T5"
    assert meta.title is None


def test_oversized_xmp_is_not_parsed() -> None:
    packet = xmp_packet(title="Groot") + b" " * metadata.MAX_XMP_BYTES
    assert parse_xmp(packet) == {}
    assert parse_xmp(xmp_packet(title="Groot")) == {"title": "Groot"}


@pytest.mark.parametrize(
    "raw",
    [
        RawMetadata(
            ifd0={
                IFD0["make"]: b"\xff\xfe\x00",
                IFD0["model"]: 12345,
                IFD0["description"]: ("a", "b"),
            }
        ),
        RawMetadata(
            exif={
                EXIF["iso"]: ("fast",),
                EXIF["f_number"]: IFDRational(1, 0),
                EXIF["exposure_time"]: -1,
                EXIF["focal_length"]: "long",
            }
        ),
        RawMetadata(exif={EXIF["iso"]: (), EXIF["exposure_time"]: IFDRational(0, 0)}),
        RawMetadata(gps={1: "N", 2: "garbage", 3: "E", 4: (1, 2)}),
        RawMetadata(gps={1: b"S", 2: (IFDRational(1, 0), 0, 0), 3: None, 4: (3, 0, 0)}),
        RawMetadata(
            iptc={IPTC["keywords"]: [b"\xff\xfe", b"", b"ok"], IPTC["date_created"]: b"2026-13-45"}
        ),
        RawMetadata(exif={EXIF["datetime_original"]: b"\x00\x00\x00", EXIF["offset_original"]: 42}),
        RawMetadata(xmp=b"\xff" * 100),
    ],
)
def test_malformed_values_never_break_the_merge(raw: RawMetadata) -> None:
    meta = build(raw)
    data = meta.as_json()
    assert all(isinstance(k, str) for k in data)
    assert meta.iso is None or meta.iso > 0
    assert meta.f_number is None or meta.f_number == meta.f_number  # not NaN


@pytest.mark.parametrize(
    "written",
    ["© Vlaamse overheid".encode(), "© Vlaamse overheid".encode("latin-1")],
    ids=["utf-8", "latin-1"],
)
def test_exif_text_is_read_as_written_whether_utf8_or_latin1(written: bytes) -> None:
    exif = Image.Exif()
    exif[IFD0["copyright"]] = written  # an ASCII-typed tag holding non-ASCII bytes
    assert meta_of(small_jpeg(exif=exif)).copyright == "© Vlaamse overheid"


def test_control_characters_and_very_long_text_are_cleaned() -> None:
    raw = RawMetadata(ifd0={IFD0["description"]: "Titel\x00\x07 met\tbel" + "x" * 5000})
    description = build(raw).description
    assert description is not None
    assert "\x00" not in description and "\x07" not in description
    assert description.startswith("Titel met\tbel")
    assert len(description) == metadata.MAX_TEXT


# --- end to end ----------------------------------------------------------------------------


def test_embedded_metadata_fills_the_asset(client: TestClient, creative: Account) -> None:
    data = small_jpeg(
        exif=exif_block(
            make="Canon",
            model="Canon EOS R6",
            gps=(-33.8568, 151.2153),
            copyright="© Vlaamse overheid",
        ),
        xmp=xmp_packet(title="Opera House", keywords=["Sydney", "sydney", "Haven"]),
    )
    asset = upload(client, creative, data)
    assert asset["status"] == "ready", asset["error"]
    assert asset["title"] == "Opera House"
    assert asset["tags"] == ["haven", "sydney"]
    assert asset["metadata"]["camera"] == "Canon EOS R6"
    assert asset["metadata"]["copyright"] == "© Vlaamse overheid"
    assert asset["metadata"]["gps"] == pytest.approx({"lat": -33.8568, "lon": 151.2153}, abs=1e-5)


def test_hostile_xmp_upload_still_becomes_ready(client: TestClient, creative: Account) -> None:
    data = small_jpeg(xmp=HOSTILE_XMP["billion laughs"].encode(), exif=exif_block(make="Sony"))
    asset = upload(client, creative, data)
    assert asset["status"] == "ready", asset["error"]
    assert asset["metadata"]["camera"] == "Sony"
    assert "lol" not in (asset["title"] or "")
