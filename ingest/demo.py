"""A demo library generated on the spot: photos with varied EXIF, IPTC, XMP, orientations
and GPS, and a short video (ffmpeg's test pattern and a tone). Tests use the same writers
to make their fixtures."""

from __future__ import annotations

import importlib.util
import io
import os
import struct
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pillow_heif
from PIL import Image, ImageDraw

from ingest.ffmpeg import ffmpeg_binary

pillow_heif.register_heif_opener()

# The transpose that turns an upright image into what a camera with this EXIF orientation
# stores; exif_transpose() undoes it.
_STORE_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}

BRUSSELS_SUMMER = timezone(timedelta(hours=2))


def scene(width: int, height: int, seed: int, *, noise: float = 6.0) -> Image.Image:
    """A landscape-like picture: sky gradient, sun, hills, sensor-like noise."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    top, bottom = rng.uniform(60, 200, 3), rng.uniform(150, 255, 3)
    sky = top[None, None, :] * (1 - y[..., None]) + bottom[None, None, :] * y[..., None]
    pixels = np.broadcast_to(sky, (height, width, 3)).copy()
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    r = max(4, min(width, height) // 10)
    cx, cy = int(rng.uniform(0.2, 0.8) * width), int(rng.uniform(0.1, 0.4) * height)
    draw.ellipse(
        (cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in rng.uniform(200, 255, 3))
    )
    for layer in range(3):
        base = height * (0.55 + 0.12 * layer)
        xs = np.linspace(0, width, 12)
        ys = base + rng.normal(0, height * 0.05, 12)
        colour = tuple(int(v) for v in rng.uniform(20, 140, 3))
        draw.polygon(
            [(0, height), *zip(xs.tolist(), ys.tolist(), strict=True), (width, height)], fill=colour
        )
    if noise:
        arr = np.asarray(image, dtype=np.int16) + rng.normal(0, noise, (height, width, 3)).astype(
            np.int16
        )
        image = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    return image


def store_oriented(upright: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores for `upright` when it writes this EXIF orientation."""
    method = _STORE_AS[orientation]
    return upright.transpose(method) if method is not None else upright.copy()


def exif_block(
    *,
    orientation: int = 1,
    make: str | None = None,
    model: str | None = None,
    taken: datetime | None = None,
    gps: tuple[float, float] | None = None,
    artist: str | None = None,
    copyright: str | None = None,
    description: str | None = None,
    lens: str | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    for tag, value in (
        (0x010F, make),
        (0x0110, model),
        (0x013B, artist),
        (0x8298, copyright),
        (0x010E, description),
    ):
        if value:
            # UTF-8 bytes, as cameras and exiftool write them: Pillow would turn a str's
            # non-ASCII characters ("©") into "?".
            exif[tag] = value if value.isascii() else value.encode()
    sub = exif.get_ifd(0x8769)
    if taken is not None:
        sub[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
        if taken.utcoffset() is not None:
            minutes = int(taken.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
            sign = "+" if minutes >= 0 else "-"
            sub[0x9011] = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if lens:
        sub[0xA434] = lens
    if gps is not None:
        lat, lon = gps
        exif.get_ifd(0x8825).update(
            {
                1: "N" if lat >= 0 else "S",
                2: _dms(abs(lat)),
                3: "E" if lon >= 0 else "W",
                4: _dms(abs(lon)),
            }
        )
    return exif


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def xmp_packet(
    *,
    title: str | None = None,
    description: str | None = None,
    keywords: list[str] | None = None,
    creator: str | None = None,
    rights: str | None = None,
    usage_terms: str | None = None,
    credit: str | None = None,
    web_statement: str | None = None,
    hierarchical: list[str] | None = None,
    rating: int | None = None,
    label: str | None = None,
    alt_text: str | None = None,
    people: list[str] | None = None,
    regions: list[tuple[str, float, float, float, float]] | None = None,
    extra: str = "",
    extra_namespaces: str = "",
) -> bytes:
    """An XMP packet as photo tools write them (embedded, or as a sidecar file). `regions`
    are (name, x, y, w, h) of the top-left corner and size (0..1), written the mwg-rs way
    (centre and size); `extra` is raw XML inside the description."""

    def alt(tag: str, value: str) -> str:
        return (
            f'<{tag}><rdf:Alt><rdf:li xml:lang="x-default">{escape(value)}</rdf:li>'
            f"</rdf:Alt></{tag}>"
        )

    def bag(tag: str, values: list[str]) -> str:
        items = "".join(f"<rdf:li>{escape(v)}</rdf:li>" for v in values)
        return f"<{tag}><rdf:Bag>{items}</rdf:Bag></{tag}>"

    parts = []
    if title:
        parts.append(alt("dc:title", title))
    if description:
        parts.append(alt("dc:description", description))
    if rights:
        parts.append(alt("dc:rights", rights))
    if usage_terms:
        parts.append(alt("xmpRights:UsageTerms", usage_terms))
    if alt_text:
        parts.append(alt("Iptc4xmpCore:AltTextAccessibility", alt_text))
    if creator:
        parts.append(
            f"<dc:creator><rdf:Seq><rdf:li>{escape(creator)}</rdf:li></rdf:Seq></dc:creator>"
        )
    if keywords:
        parts.append(bag("dc:subject", keywords))
    if hierarchical:
        parts.append(bag("lr:hierarchicalSubject", hierarchical))
    if people:
        parts.append(bag("Iptc4xmpExt:PersonInImage", people))
    if regions:
        items = "".join(
            '<rdf:li rdf:parseType="Resource">'
            f"<mwg-rs:Name>{escape(name)}</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>"
            f'<mwg-rs:Area stArea:x="{x + w / 2:.6f}" stArea:y="{y + h / 2:.6f}" '
            f'stArea:w="{w:.6f}" stArea:h="{h:.6f}" stArea:unit="normalized"/></rdf:li>'
            for name, x, y, w, h in regions
        )
        parts.append(
            '<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>'
            f"{items}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>"
        )
    attrs = f' photoshop:Credit="{escape(credit)}"' if credit else ""
    if web_statement:
        attrs += f' xmpRights:WebStatement="{escape(web_statement)}"'
    if rating is not None:
        attrs += f' xmp:Rating="{rating}"'
    if label:
        attrs += f' xmp:Label="{escape(label)}"'
    body = "".join(parts) + extra
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:lr="http://ns.adobe.com/lightroom/1.0/" '
        'xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
        'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" '
        f"{extra_namespaces}"
        f'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"{attrs}>{body}'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def iptc_segment(fields: dict[tuple[int, int], str | list[str]]) -> bytes:
    """A JPEG APP13 segment carrying IPTC IIM datasets (UTF-8 declared)."""
    records = bytearray(b"\x1c\x01\x5a\x00\x03\x1b%G")  # 1:90 coded character set = UTF-8
    for (record, dataset), value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data = item.encode()
            records += bytes([0x1C, record, dataset]) + struct.pack(">H", len(data)) + data
    if len(records) % 2:
        records += b"\x00"
    resource = (
        b"8BIM"
        + struct.pack(">H", 0x0404)
        + b"\x00\x00"
        + struct.pack(">I", len(records))
        + records
    )
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def insert_segment(jpeg: bytes, segment: bytes) -> bytes:
    """Insert an APPn segment after the leading APP segments of a JPEG."""
    position = 2
    while jpeg[position] == 0xFF and 0xE0 <= jpeg[position + 1] <= 0xEF:
        position += 2 + struct.unpack(">H", jpeg[position + 2 : position + 4])[0]
    return jpeg[:position] + segment + jpeg[position:]


def jpeg_bytes(
    image: Image.Image,
    *,
    exif: Image.Exif | None = None,
    xmp: bytes | None = None,
    iptc: dict[tuple[int, int], str | list[str]] | None = None,
    quality: int = 90,
    **save_options: object,
) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, object] = {"quality": quality, **save_options}
    if exif is not None:
        options["exif"] = exif.tobytes()
    if xmp is not None:
        options["xmp"] = xmp
    image.save(buffer, "JPEG", **options)
    data = buffer.getvalue()
    return insert_segment(data, iptc_segment(iptc)) if iptc else data


@dataclass
class DemoPhoto:
    filename: str
    title: str
    keywords: list[str]
    place: tuple[float, float] | None
    orientation: int = 1
    size: tuple[int, int] = (2400, 1600)
    fmt: str = "JPEG"
    extra: dict[str, str] = field(default_factory=dict)


PLACES = {
    "Gent": (51.0543, 3.7174),
    "Brussel": (50.8467, 4.3525),
    "Antwerpen": (51.2194, 4.4025),
    "Brugge": (51.2093, 3.2247),
    "Leuven": (50.8798, 4.7005),
    "Hasselt": (50.9307, 5.3325),
}

DEMO: list[DemoPhoto] = [
    DemoPhoto(
        "fietsers-gent.jpg", "Fietsers aan de Graslei", ["fietsen", "gent", "zomer"], PLACES["Gent"]
    ),
    DemoPhoto(
        "atomium.jpg",
        "Zonsondergang bij het Atomium",
        ["brussel", "architectuur"],
        PLACES["Brussel"],
        orientation=3,
    ),
    DemoPhoto(
        "haven-portret.jpg",
        "Havenarbeider, portret",
        ["antwerpen", "haven", "werk"],
        PLACES["Antwerpen"],
        orientation=6,
        size=(1600, 2400),
    ),
    DemoPhoto(
        "reien-brugge.jpg",
        "Reien in de winter",
        ["brugge", "winter", "water"],
        PLACES["Brugge"],
        orientation=8,
    ),
    DemoPhoto(
        "universiteitsbib.jpg",
        "Universiteitsbibliotheek",
        ["leuven", "onderwijs"],
        PLACES["Leuven"],
    ),
    DemoPhoto(
        "markt-hasselt.jpg",
        "Weekmarkt op de Grote Markt",
        ["hasselt", "markt"],
        PLACES["Hasselt"],
        orientation=2,
    ),
    DemoPhoto(
        "logo-campagne.png",
        "Campagnebeeld welzijn 2026",
        ["campagne", "welzijn"],
        None,
        size=(1200, 800),
        fmt="PNG",
    ),
    DemoPhoto(
        "kustlijn.webp",
        "Kustlijn bij Oostende",
        ["kust", "zee"],
        (51.2300, 2.9200),
        size=(1800, 1200),
        fmt="WEBP",
    ),
    DemoPhoto(
        "telefoonfoto.heic",
        "Vergadering, telefoonfoto",
        ["vergadering", "intern"],
        PLACES["Brussel"],
        size=(2016, 1512),
        fmt="HEIF",
    ),
    DemoPhoto(
        "drone.avif",
        "Luchtbeeld polders",
        ["polder", "drone", "natuur"],
        (51.3000, 3.1000),
        size=(1920, 1080),
        fmt="AVIF",
    ),
    DemoPhoto(
        "archief-scan.tif",
        "Archiefscan stadhuis 1958",
        ["archief", "erfgoed"],
        None,
        size=(1600, 1200),
        fmt="TIFF",
    ),
    DemoPhoto(
        "persmoment.jpg",
        "Persmoment met de minister",
        ["pers", "politiek"],
        PLACES["Brussel"],
        extra={"usage": "Enkel redactioneel gebruik"},
    ),
]


def render_demo_photo(photo: DemoPhoto, seed: int) -> bytes:
    upright = scene(*photo.size, seed=seed)
    taken = datetime(2026, 6, 1, 9, 30, tzinfo=BRUSSELS_SUMMER) + timedelta(
        days=seed * 9, hours=seed
    )
    exif = exif_block(
        orientation=photo.orientation,
        make="Canon",
        model="Canon EOS R6",
        taken=taken,
        gps=photo.place,
        artist="Team Communicatie",
        # Pillow writes the EXIF of a TIFF and an AVIF again as ASCII only ("©" as "??").
        copyright=(
            "Copyright Vlaamse overheid" if photo.fmt in ("TIFF", "AVIF") else "© Vlaamse overheid"
        ),
        lens="RF24-105mm F4 L IS USM",
    )
    if photo.fmt == "JPEG":
        return jpeg_bytes(
            store_oriented(upright, photo.orientation),
            exif=exif,
            xmp=xmp_packet(
                title=photo.title,
                keywords=photo.keywords,
                creator="Team Communicatie",
                rights="© Vlaamse overheid",
                usage_terms=photo.extra.get("usage"),
                credit="Vlaamse overheid",
            ),
            iptc={
                (2, 5): photo.title,
                (2, 25): photo.keywords,
                (2, 80): "Team Communicatie",
                (2, 120): f"{photo.title}. Demobeeld van Beeldbank.",
            },
        )
    buffer = io.BytesIO()
    image = upright
    if photo.fmt == "PNG":
        image = upright.convert("RGBA")
        image.putalpha(Image.linear_gradient("L").resize(upright.size))
        image.save(buffer, "PNG", exif=exif.tobytes())
    else:
        image.save(buffer, photo.fmt, exif=exif.tobytes(), quality=80)
    return buffer.getvalue()


DEMO_VIDEO = "testbeeld.mp4"
DEMO_VIDEO_SECONDS = 8
DEMO_FACES = "astronaut.jpg"


def demo_video_command(
    binary: str, target: Path, *, seconds: int = DEMO_VIDEO_SECONDS
) -> list[str]:
    """ffmpeg arguments for the demo clip: the moving test pattern with a 440 Hz tone, 720p
    H.264/AAC, so the video pipeline has something to convert, scrub and caption."""
    return [
        binary, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-af", "volume=0.2",
        "-metadata", "title=Testbeeld met toon",
        "-movflags", "+faststart", "-f", "mp4", str(target),
    ]  # fmt: skip


def render_demo_video(target: Path) -> None:
    """Write the demo clip to `target` (through a temporary name: never half a file)."""
    binary = ffmpeg_binary()
    if binary is None:
        raise RuntimeError("ffmpeg is needed for the demo video (pip install imageio-ffmpeg)")
    partial = target.with_name(f".{target.name}.part")
    done = subprocess.run(
        demo_video_command(binary, partial), capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg could not make the demo video: {done.stderr[-500:]}")
    os.replace(partial, target)


def installed_face_photo() -> Path | None:
    """A real photo with a face that an installed registry package ships, if any:
    scikit-image's astronaut.png (Eileen Collins, a NASA photo in the public domain).
    Beeldbank bundles no photo of a person, so without it the demo has no faces."""
    spec = importlib.util.find_spec("skimage")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "data" / "astronaut.png"
        if path.is_file():
            return path
    return None


def render_face_photo(source: Path) -> bytes:
    with Image.open(source) as image:
        upright = image.convert("RGB")
    return jpeg_bytes(
        upright,
        xmp=xmp_packet(
            title="Astronaute Eileen Collins",
            keywords=["ruimtevaart", "portret"],
            creator="NASA",
            rights="Publiek domein (NASA)",
        ),
    )


def generate_demo_library(folder: Path) -> list[Path]:
    """Write the demo photos and video into `folder` (again only when missing) and return
    their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed, photo in enumerate(DEMO, start=1):
        path = folder / photo.filename
        if not path.exists():
            path.write_bytes(render_demo_photo(photo, seed))
        paths.append(path)
    video = folder / DEMO_VIDEO
    if not video.exists():
        render_demo_video(video)
    paths.append(video)
    face_source = installed_face_photo()
    if face_source is not None:
        faces = folder / DEMO_FACES
        if not faces.exists():
            faces.write_bytes(render_face_photo(face_source))
        paths.append(faces)
    return paths
