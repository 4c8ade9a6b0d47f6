"""Every accepted photo format, orientation and colour space, and hostile input, end to end.

Images are generated here: four coloured quadrants make a wrong rotation, flip or colour
conversion visible in a single pixel of the thumbnail.
"""

from __future__ import annotations

import io
import random
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageCms

from dam import auth, migrate
from dam.errors import ProcessingError
from dam.models import Role
from dam.runtime import build_runtime
from dam.settings import Settings
from dam.sizes import Size
from ingest.demo import exif_block, jpeg_bytes, store_oriented
from ingest.image.decode import decode_for_renditions, open_image, upright_dimensions
from tests.conftest import Account
from tests.corpus import message_problem
from web.app import create_app

pytestmark = pytest.mark.one_database

RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 220, 40)
# Colour error allowed after lossy encoding of the source and of the thumbnail.
TOLERANCE = 14

Colour = tuple[int, ...]


def quadrants(width: int = 600, height: int = 400) -> Image.Image:
    """An upright picture: red top left, green top right, blue bottom left, yellow bottom right."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(GREEN, (width // 2, 0, width, height // 2))
    image.paste(BLUE, (0, height // 2, width // 2, height))
    image.paste(YELLOW, (width // 2, height // 2, width, height))
    return image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def upload(client: TestClient, account: Account, data: bytes, name: str = "photo.jpg"):
    return client.post(
        "/api/v1/assets",
        headers=account.headers,
        files={"file": (name, data, "application/octet-stream")},
    )


def processed(client: TestClient, account: Account, data: bytes, name: str = "photo") -> dict:
    response = upload(client, account, data, name)
    assert response.status_code == 201, response.text
    return client.get(f"/api/v1/assets/{response.json()['id']}", headers=account.headers).json()


def smallest_rendition(client: TestClient, account: Account, asset: dict) -> Image.Image:
    rendition = min(asset["renditions"], key=lambda r: r["width"] * r["height"])
    response = client.get(rendition["url"], headers=account.headers)
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (rendition["width"], rendition["height"])
    return image.convert("RGBA")


def colour_at(image: Image.Image, fx: float, fy: float) -> Colour:
    return image.getpixel((int(image.width * fx), int(image.height * fy)))  # type: ignore[return-value]


def close(got: Colour, want: Colour, tolerance: int = TOLERANCE) -> bool:
    return all(abs(g - w) <= tolerance for g, w in zip(got, want, strict=False))


def assert_upright_quadrants(image: Image.Image) -> None:
    seen = {
        corner: colour_at(image, fx, fy)[:3]
        for corner, fx, fy in (
            ("top left", 0.25, 0.25),
            ("top right", 0.75, 0.25),
            ("bottom left", 0.25, 0.75),
            ("bottom right", 0.75, 0.75),
        )
    }
    expected = {"top left": RED, "top right": GREEN, "bottom left": BLUE, "bottom right": YELLOW}
    assert all(close(seen[c], expected[c]) for c in expected), seen


# --- orientation --------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_an_upright_asset_and_thumbnail(
    client: TestClient, creative: Account, orientation: int
) -> None:
    stored = store_oriented(quadrants(600, 400), orientation)
    asset = processed(
        client, creative, jpeg_bytes(stored, exif=exif_block(orientation=orientation))
    )
    assert asset["status"] == "ready", asset["error"]
    assert (asset["width"], asset["height"]) == (600, 400)
    thumb = smallest_rendition(client, creative, asset)
    assert thumb.width > thumb.height
    assert_upright_quadrants(thumb)


def _oriented(fmt: str, orientation: int, **options: object) -> bytes:
    stored = store_oriented(quadrants(600, 400), orientation)
    return encode(stored, fmt, exif=exif_block(orientation=orientation).tobytes(), **options)


@pytest.mark.parametrize(
    ("fmt", "orientation", "make"),
    [
        ("PNG", 6, lambda: _oriented("PNG", 6)),
        ("WebP", 8, lambda: _oriented("WEBP", 8, quality=90)),
        # Pillow's TIFF reader turns the pixels itself: the size must not be swapped twice.
        ("TIFF", 6, lambda: _oriented("TIFF", 6)),
        # libtiff (compressed TIFF) takes the orientation as a plain tag, not an EXIF block.
        (
            "TIFF",
            8,
            lambda: encode(
                store_oriented(quadrants(600, 400), 8),
                "TIFF",
                compression="tiff_lzw",
                tiffinfo={0x0112: 8},
            ),
        ),
        ("AVIF", 6, lambda: _oriented("AVIF", 6, quality=90)),
        ("HEIC", 6, lambda: _oriented("HEIF", 6, quality=90)),
        (
            "progressive JPEG",
            7,
            lambda: jpeg_bytes(
                store_oriented(quadrants(3000, 2000), 7),
                exif=exif_block(orientation=7),
                progressive=True,
            ),
        ),
    ],
)
def test_orientation_is_applied_in_every_format(
    client: TestClient, creative: Account, fmt: str, orientation: int, make: Callable[[], bytes]
) -> None:
    asset = processed(client, creative, make())
    assert asset["status"] == "ready", asset["error"]
    assert asset["width"] > asset["height"]
    assert_upright_quadrants(smallest_rendition(client, creative, asset))


# --- formats and pixel layouts --------------------------------------------------------------


def _gif_animation() -> bytes:
    first = quadrants(300, 200)
    second = Image.new("RGB", (300, 200), (0, 0, 0))
    return encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)


FORMATS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "baseline JPEG": ("image/jpeg", lambda: jpeg_bytes(quadrants())),
    "progressive JPEG": ("image/jpeg", lambda: jpeg_bytes(quadrants(3000, 2000), progressive=True)),
    "JPEG 4:4:4": ("image/jpeg", lambda: jpeg_bytes(quadrants(), subsampling=0)),
    "PNG": ("image/png", lambda: encode(quadrants(), "PNG")),
    "PNG palette": ("image/png", lambda: encode(quadrants().convert("P"), "PNG")),
    "WebP lossy": ("image/webp", lambda: encode(quadrants(), "WEBP", quality=90)),
    "WebP lossless": ("image/webp", lambda: encode(quadrants(), "WEBP", lossless=True)),
    "GIF, first frame of an animation": ("image/gif", _gif_animation),
    "TIFF uncompressed": ("image/tiff", lambda: encode(quadrants(), "TIFF")),
    "TIFF LZW": ("image/tiff", lambda: encode(quadrants(), "TIFF", compression="tiff_lzw")),
    "TIFF JPEG": ("image/tiff", lambda: encode(quadrants(), "TIFF", compression="jpeg")),
    "HEIC": ("image/heic", lambda: encode(quadrants(), "HEIF", quality=90)),
    "AVIF": ("image/avif", lambda: encode(quadrants(), "AVIF", quality=90)),
}


@pytest.mark.parametrize(("mime", "make"), FORMATS.values(), ids=FORMATS.keys())
def test_every_accepted_format_becomes_ready_with_true_colours(
    client: TestClient, creative: Account, mime: str, make: Callable[[], bytes]
) -> None:
    data = make()
    asset = processed(client, creative, data)
    assert asset["status"] == "ready", asset["error"]
    assert asset["mime"] == mime
    with Image.open(io.BytesIO(data)) as original:
        assert (asset["width"], asset["height"]) == original.size
    assert_upright_quadrants(smallest_rendition(client, creative, asset))


def test_png_alpha_stays_transparent_not_black(client: TestClient, creative: Account) -> None:
    image = Image.new("RGBA", (400, 200), (0, 0, 0, 0))  # fully transparent black...
    image.paste((30, 30, 220, 255), (200, 0, 400, 200))  # ...beside opaque blue
    asset = processed(client, creative, encode(image, "PNG"))
    assert asset["status"] == "ready", asset["error"]
    thumb = smallest_rendition(client, creative, asset)
    left = colour_at(thumb, 0.25, 0.5)
    # Dropping the alpha channel would show the black hidden under it.
    assert left[3] == 0 or close(left[:3], (255, 255, 255)), left
    assert close(colour_at(thumb, 0.75, 0.5), (30, 30, 220, 255))


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_greyscale_is_scaled_not_clipped(
    client: TestClient, creative: Account, fmt: str
) -> None:
    # A 16-bit ramp: cut to its low byte (a classic bug) it would turn into stripes.
    ramp = Image.linear_gradient("L").resize((256, 512)).transpose(Image.Transpose.ROTATE_90)
    deep = Image.fromarray(np.asarray(ramp, dtype=np.uint16) * 257)
    assert deep.mode == "I;16"
    asset = processed(client, creative, encode(deep, fmt))
    assert asset["status"] == "ready", asset["error"]
    assert (asset["width"], asset["height"]) == deep.size
    thumb = smallest_rendition(client, creative, asset)
    for fx in (0.1, 0.3, 0.5, 0.7, 0.9):
        want = ramp.getpixel((int(ramp.width * fx), ramp.height // 2))
        got = colour_at(thumb, fx, 0.5)
        assert close(got[:3], (want, want, want)), (fx, got, want)  # type: ignore[arg-type]


def test_sixteen_bit_greyscale_is_turned_upright_too(client: TestClient, creative: Account) -> None:
    # 16-bit pixels are rescaled into a new image, which has no EXIF block of its own: the
    # orientation must come from the file, not from the converted pixels.
    grey = quadrants(600, 400).convert("L")
    stored = store_oriented(grey, 6)
    deep = Image.fromarray(np.asarray(stored, dtype=np.uint16) * 257)
    asset = processed(
        client, creative, encode(deep, "PNG", exif=exif_block(orientation=6).tobytes())
    )
    assert asset["status"] == "ready", asset["error"]
    assert (asset["width"], asset["height"]) == (600, 400)
    thumb = smallest_rendition(client, creative, asset)
    for fx, fy in ((0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)):
        want = colour_at(grey, fx, fy)
        assert close(colour_at(thumb, fx, fy)[:3], (want, want, want)), (fx, fy)  # type: ignore[arg-type]


# --- colour management ------------------------------------------------------------------


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_text = text.encode() + b"\0"
    # textDescriptionType (ICC v2): ASCII part, then empty Unicode and ScriptCode parts.
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text + bytes(8 + 3 + 67)


def _gamma(value: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(value * 256)) + b"\0\0"


def icc_profile(device_class: bytes, colour_space: bytes, pcs: bytes, tags: dict) -> bytes:
    """A minimal ICC v2.1 profile (ICC.1:2001-04) around the given tags."""
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags.items():
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    d50 = _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    header = (
        struct.pack(">I", offset + len(data))
        + bytes(4)
        + bytes([2, 0x10, 0, 0])
        + device_class
        + colour_space
        + pcs
        + bytes(12)
        + b"acsp"
        + bytes(24)
        + bytes(4)
        + d50
        + bytes(4 + 16 + 28)
    )
    return header + struct.pack(">I", len(tags)) + table + data


def adobe_rgb_profile() -> bytes:
    """A matrix/TRC profile with the Adobe RGB (1998) primaries and gamma (D50-adapted)."""
    gamma = _gamma(563 / 256)
    return icc_profile(
        b"mntr",
        b"RGB ",
        b"XYZ ",
        {
            b"desc": _desc("Adobe RGB (1998) compatible, generated for tests"),
            b"wtpt": _xyz(0.9642, 1.0, 0.8249),
            b"rXYZ": _xyz(0.60974, 0.31111, 0.01947),
            b"gXYZ": _xyz(0.20528, 0.62567, 0.06087),
            b"bXYZ": _xyz(0.14919, 0.06322, 0.74457),
            b"rTRC": gamma,
            b"gTRC": gamma,
            b"bTRC": gamma,
        },
    )


def warm_paper_cmyk_profile() -> bytes:
    """A printer profile (CMYK -> Lab, one 2x2x2x2 lookup table) of a warm, dull press."""
    corners = b""
    for c in (0, 1):
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    lightness = 92 * (1 - 0.85 * k) * (1 - 0.4 * c) * (1 - 0.5 * m) * (1 - 0.08 * y)
                    a = (-35 * c + 65 * m - 4 * y) * (1 - k)
                    b = min(127, 18 + (-45 * c - 8 * m + 85 * y) * (1 - k))
                    # ICC v2 16-bit Lab: L 0..100 -> 0..0xFF00, a/b -128..127 -> 0..0xFF00.
                    corners += struct.pack(
                        ">HHH",
                        round(lightness / 100 * 0xFF00),
                        round((a + 128) * 256),
                        round((b + 128) * 256),
                    )
    identity_curve = struct.pack(">HH", 0, 0xFFFF)
    lut = (
        b"mft2\0\0\0\0"
        + bytes([4, 3, 2, 0])
        + b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
        + struct.pack(">HH", 2, 2)
        + identity_curve * 4
        + corners
        + identity_curve * 3
    )
    return icc_profile(
        b"prtr",
        b"CMYK",
        b"Lab ",
        {
            b"desc": _desc("Warm paper CMYK, generated for tests"),
            b"wtpt": _xyz(0.9642, 1.0, 0.8249),
            b"A2B0": lut,
        },
    )


def through_profile(colour: Colour, mode: str, profile: bytes) -> Colour:
    """What LittleCMS makes of one colour in `profile`, in sRGB."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    pixel = Image.new(mode, (1, 1), colour)
    converted = ImageCms.profileToProfile(
        pixel, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
    )
    assert converted is not None
    return converted.getpixel((0, 0))  # type: ignore[return-value]


def halves(mode: str, left: Colour, right: Colour) -> Image.Image:
    image = Image.new(mode, (400, 200), left)
    image.paste(right, (200, 0, 400, 200))
    return image


@pytest.mark.parametrize(
    ("fmt", "mode", "left", "right", "profile"),
    [
        ("JPEG", "RGB", (60, 160, 90), (90, 200, 200), adobe_rgb_profile),
        ("PNG", "RGB", (60, 160, 90), (90, 200, 200), adobe_rgb_profile),
        ("TIFF", "RGB", (60, 160, 90), (90, 200, 200), adobe_rgb_profile),
        ("JPEG", "CMYK", (255, 0, 0, 0), (0, 0, 0, 128), warm_paper_cmyk_profile),
    ],
)
def test_embedded_icc_profiles_are_converted_to_srgb(
    client: TestClient,
    creative: Account,
    fmt: str,
    mode: str,
    left: Colour,
    right: Colour,
    profile: Callable[[], bytes],
) -> None:
    icc = profile()
    options: dict[str, object] = {"icc_profile": icc}
    if fmt == "JPEG":
        options["quality"] = 95
    asset = processed(client, creative, encode(halves(mode, left, right), fmt, **options))
    assert asset["status"] == "ready", asset["error"]
    thumb = smallest_rendition(client, creative, asset)
    for fx, colour in ((0.25, left), (0.75, right)):
        want = through_profile(colour, mode, icc)
        naive = Image.new(mode, (1, 1), colour).convert("RGB").getpixel((0, 0))
        got = colour_at(thumb, fx, 0.5)[:3]
        # The test colours are chosen so that ignoring the profile would be visibly off.
        assert not close(want, naive, 2 * TOLERANCE), (want, naive)  # type: ignore[arg-type]
        assert close(got, want), (fx, got, want, naive)


def test_cmyk_jpeg_without_a_profile_still_decodes(client: TestClient, creative: Account) -> None:
    data = encode(halves("CMYK", (0, 0, 0, 0), (0, 255, 255, 0)), "JPEG", quality=95)
    asset = processed(client, creative, data)
    assert asset["status"] == "ready", asset["error"]
    thumb = smallest_rendition(client, creative, asset)
    assert close(colour_at(thumb, 0.25, 0.5)[:3], (255, 255, 255))
    assert close(colour_at(thumb, 0.75, 0.5)[:3], (255, 0, 0))


def test_a_broken_icc_profile_falls_back_to_the_plain_pixels(
    client: TestClient, creative: Account
) -> None:
    data = encode(quadrants(), "PNG", icc_profile=b"not a profile at all" * 10)
    asset = processed(client, creative, data)
    assert asset["status"] == "ready", asset["error"]
    assert_upright_quadrants(smallest_rendition(client, creative, asset))


# --- hostile input ---------------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` one-bit pixels."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def test_decompression_bomb_fails_fast_with_the_megapixel_message(
    client: TestClient, creative: Account
) -> None:
    bomb = png_claiming(100_000, 100_000)
    assert len(bomb) < 200
    began = time.perf_counter()
    asset = processed(client, creative, bomb)
    assert time.perf_counter() - began < 3
    assert asset["status"] == "failed"
    assert asset["error"] == (
        "The image is 10,000 megapixels, more than the limit of 200 megapixels. "
        "Reduce its size and upload it again."
    )


@pytest.fixture
def limited_client(
    settings_factory: Callable[..., Settings],
) -> Iterator[tuple[TestClient, Account]]:
    """A server whose DAM_MAX_IMAGE_PIXELS is 2 megapixels."""
    runtime = build_runtime(settings_factory(max_image_pixels=2_000_000))
    migrate.upgrade(runtime.engine)
    with runtime.unit_of_work() as session:
        user = auth.create_user(
            session,
            email="limit@example.test",
            password="correct horse battery",
            role=Role.creative,
        )
        token = auth.create_token(session, user=user, name="tests")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield client, Account(user, token)
    runtime.close()


def test_the_pixel_limit_setting_is_honoured(limited_client: tuple[TestClient, Account]) -> None:
    client, account = limited_client
    # A genuine, decodable 1-bit image of 2,000 x 1,500 pixels in a few hundred bytes.
    big = encode(Image.new("1", (2000, 1500), 1), "PNG")
    assert len(big) < 2000
    asset = processed(client, account, big)
    assert asset["status"] == "failed"
    assert asset["error"] == (
        "The image is 2,000 × 1,500 pixels (3 megapixels), more than the limit of "
        "2 megapixels. Reduce its size and upload it again."
    )
    small = processed(client, account, encode(Image.new("1", (1000, 1000), 1), "PNG"))
    assert small["status"] == "ready", small["error"]


def test_the_pixel_refusal_writes_its_numbers_in_the_readers_language(
    limited_client: tuple[TestClient, Account],
) -> None:
    """The dimensions stay numbers in the kept failure (issue 15): "2.500 × 1.000" and
    "2,5 megapixels" for a Dutch reader, "2,500 × 1,000" and "2.5" for an English one."""
    client, account = limited_client
    asset = processed(client, account, encode(Image.new("1", (2500, 1000), 1), "PNG"))
    url = f"/api/v1/assets/{asset['id']}"
    dutch = client.get(url, headers={**account.headers, "Accept-Language": "nl-BE"}).json()
    english = client.get(url, headers={**account.headers, "Accept-Language": "en-GB"}).json()
    assert dutch["error"] == (
        "De afbeelding is 2.500 × 1.000 pixels (2,5 megapixels), meer dan de limiet van "
        "2 megapixels. Maak ze kleiner en laad ze opnieuw op."
    )
    assert english["error"] == (
        "The image is 2,500 × 1,000 pixels (2.5 megapixels), more than the limit of "
        "2 megapixels. Reduce its size and upload it again."
    )


def test_empty_and_random_files_are_refused(client: TestClient, creative: Account) -> None:
    empty = upload(client, creative, b"", "empty.jpg")
    assert empty.status_code == 415
    assert empty.json()["error"]["message"] == "The file is empty (0 bytes)."
    noise = random.Random(5).randbytes(5000)
    refused = upload(client, creative, noise, "noise.jpg")
    assert refused.status_code == 415
    assert message_problem(refused.json()["error"]["message"]) is None


def test_random_bytes_behind_a_jpeg_signature_fail_with_a_reason(
    client: TestClient, creative: Account
) -> None:
    data = b"\xff\xd8\xff\xe0" + random.Random(6).randbytes(5000)
    asset = processed(client, creative, data)
    assert asset["status"] == "failed"
    assert message_problem(asset["error"]) is None
    assert "JPEG" in asset["error"]


def test_a_png_named_jpg_is_processed_as_png(client: TestClient, creative: Account) -> None:
    asset = processed(client, creative, encode(quadrants(), "PNG"), "holiday.jpg")
    assert asset["status"] == "ready", asset["error"]
    assert asset["mime"] == "image/png"
    assert asset["filename"] == "holiday.jpg"


def test_truncated_jpeg_says_where_it_is_cut(client: TestClient, creative: Account) -> None:
    whole = jpeg_bytes(quadrants(1600, 1200))
    cut = whole[: len(whole) * 2 // 3]
    asset = processed(client, creative, cut)
    assert asset["status"] == "failed"
    assert asset["error"] == (
        f"The file is cut off after {Size(len(cut))}: the JPEG data ends early. "
        "Upload the complete file again."
    )


def _zip_with(name: str, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, payload)
    return buffer.getvalue()


def test_polyglot_jpeg_with_a_zip_appended(client: TestClient, creative: Account) -> None:
    payload = _zip_with("payload.html", b"<script>alert(1)</script>")
    polyglot = jpeg_bytes(quadrants()) + payload
    assert zipfile.is_zipfile(io.BytesIO(polyglot))  # really both at once
    asset = processed(client, creative, polyglot)
    assert asset["status"] == "ready", asset["error"]
    assert asset["mime"] == "image/jpeg"
    for rendition in asset["renditions"]:
        body = client.get(rendition["url"], headers=creative.headers).content
        assert b"PK\x03\x04" not in body and b"<script>" not in body  # re-encoded, not copied
    original = client.get(f"/api/v1/assets/{asset['id']}/original", headers=creative.headers)
    assert original.content == polyglot  # the original is kept exactly as uploaded
    # The other way round it is a ZIP archive, and refused as one.
    refused = upload(client, creative, payload + jpeg_bytes(quadrants()), "photo.jpg")
    assert refused.status_code == 415
    assert "ZIP" in refused.json()["error"]["message"]


# --- damaged files, at the decoder (no HTTP: many variants) ---------------------------------

SAMPLES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "JPEG": ("JPEG", lambda: jpeg_bytes(quadrants(300, 200), exif=exif_block(orientation=6))),
    "progressive JPEG": ("JPEG", lambda: jpeg_bytes(quadrants(300, 200), progressive=True)),
    "PNG": ("PNG", lambda: encode(quadrants(300, 200), "PNG")),
    "GIF": ("GIF", lambda: encode(quadrants(300, 200), "GIF")),
    "WebP": ("WebP", lambda: encode(quadrants(300, 200), "WEBP")),
    "TIFF": ("TIFF", lambda: encode(quadrants(300, 200), "TIFF")),
    "TIFF deflate": (
        "TIFF",
        lambda: encode(quadrants(300, 200), "TIFF", compression="tiff_deflate"),
    ),
    "HEIC": ("HEIC", lambda: encode(quadrants(300, 200), "HEIF")),
    "AVIF": ("AVIF", lambda: encode(quadrants(300, 200), "AVIF")),
}


def run_pipeline_decode(path: Path, label: str) -> str | None:
    """The probe and render decoding steps; the failure message, or None on success."""
    try:
        with open_image(path, label=label, max_pixels=50_000_000) as image:
            upright_dimensions(image)
            decode_for_renditions(image, label=label, path=path, long_edge=2560)
    except ProcessingError as exc:
        return exc.message
    return None


@pytest.mark.parametrize(("label", "make"), SAMPLES.values(), ids=SAMPLES.keys())
def test_cut_off_files_are_reported_as_cut_off(
    tmp_path: Path, label: str, make: Callable[[], bytes]
) -> None:
    whole = make()
    path = tmp_path / "cut"
    for fraction in (0.3, 0.6, 0.9):
        cut = whole[: int(len(whole) * fraction)]
        path.write_bytes(cut)
        assert run_pipeline_decode(path, label) == (
            f"The file is cut off after {Size(len(cut))}: the {label} data ends early. "
            "Upload the complete file again."
        ), fraction


@pytest.mark.parametrize(("label", "make"), SAMPLES.values(), ids=SAMPLES.keys())
def test_damaged_files_fail_with_words_not_internals(
    tmp_path: Path, label: str, make: Callable[[], bytes]
) -> None:
    whole = make()
    rng = random.Random(label)
    path = tmp_path / "3f9c2a7e51d0"  # a name no message could contain by chance
    failures = 0
    for _ in range(60):
        damaged = bytearray(whole)
        # Past the signature (which sniffing checks before decoding): once in the first or
        # last tenth, where headers and directories live, and a few times anywhere.
        tenth = max(1, len(damaged) // 10)
        where = rng.choice(
            [rng.randrange(16, 16 + tenth), rng.randrange(len(damaged) - tenth, len(damaged))]
        )
        damaged[where] = rng.randrange(256)
        for _ in range(rng.randint(0, 5)):
            damaged[rng.randrange(16, len(damaged))] = rng.randrange(256)
        path.write_bytes(bytes(damaged))
        message = run_pipeline_decode(path, label)
        if message is not None:
            failures += 1
            assert message_problem(message) is None
            assert str(path) not in message and path.name not in message
    assert failures > 0  # the damage must have been noticed at least once
