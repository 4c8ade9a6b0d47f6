"""The `faces` stage: find faces in the upright photo, store boxes, crops and embeddings."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from sqlmodel import select

from dam import biometrics
from dam.geometry import Box
from dam.jobs import StageContext
from dam.models import Asset, Rendition
from ingest.faces.descriptor import describer
from ingest.faces.detect import detect_faces
from ingest.faces.geometry import padded, pixel_bounds, relative
from ingest.faces.mtcnn import SMALLEST_IN_REGIONS, Detection
from ingest.faces.store import FoundFace, encode_crop, match_by_place, store_faces
from ingest.image import camera_raw
from ingest.image.decode import decode_for_renditions, open_image, upright_dimensions
from ingest.image.geometry import fit_within
from ingest.image.renditions import LARGEST_EDGE
from ingest.originals import load_original

# The most pixels the detail picture for small faces is decoded at (a 24-megapixel camera
# photo's half size is 6 MP; a 196-megapixel one is searched at an eighth or a quarter).
DETAIL_MAX_PIXELS = 26_000_000
# A camera RAW is developed for twice the large rendition's size: its detail picture.
RAW_DETAIL_EDGE = 2 * LARGEST_EDGE


@dataclass(frozen=True)
class DecodedPhoto:
    """What the renditions stage decoded, handed on to the faces stage when that runs
    right after it in the same worker (`Wiring.add_stage(same_worker=True)`), so that
    the original is decoded once per photo."""

    sha256: str  # the original's
    full_size: tuple[int, int]  # the original's upright width and height
    working: Image.Image  # upright sRGB at the large rendition's size, before its encoding
    detail: Image.Image | None  # upright sRGB at `detail_edge` (None: not decoded at it)


def shared_detail_edge(
    path: Path, *, label: str, width: int, height: int, smallest_face: int
) -> int | None:
    """The long edge of the faces stage's detail picture of a photo stored `width` x
    `height` (None for a camera RAW: it develops one of its own, bigger)."""
    if camera_raw.is_camera_raw(path, label):
        return None
    return detail_edge(width, height, smallest_face)


def detect_asset_faces(ctx: StageContext) -> None:
    """Detect faces in an image asset and store them (identities survive a re-run)."""
    if not ctx.settings.face_detection:
        return
    asset, path, label = load_original(ctx)
    key = biometrics.face_key(ctx.settings) if ctx.settings.face_recognition else None
    handed = ctx.received
    if not isinstance(handed, DecodedPhoto) or handed.sha256 != asset.sha256:
        handed = None
    upright, full_width = working_image(ctx, asset.id, path, label, handed)
    ctx.report_progress(0.2)
    factor = upright.width / full_width

    smallest = ctx.settings.face_min_size_px
    shared = handed.detail if handed is not None else None
    if shared is not None and handed is not None:
        width, height = handed.full_size
        if max(shared.size) != detail_edge(width, height, smallest):
            shared = None  # decoded for another smallest face

    def original() -> np.ndarray:
        if shared is not None:
            return np.asarray(_rgb(shared))
        return detail_pixels(
            path,
            label=label,
            max_pixels=ctx.settings.max_image_pixels,
            smallest_face=smallest,
        )

    found = find_faces(
        upright,
        min_face=ctx.settings.face_min_size_px * factor,
        whole_frame_from=ctx.settings.face_whole_frame_px * factor,
        detail=original if factor < 1 else None,
        recognise=key is not None,
    )
    ctx.report_progress(0.8)
    with ctx.session() as session:
        if session.get(Asset, asset.id) is None:
            return
        store_faces(
            session, blobs=ctx.blobs, asset_id=asset.id, found=found, key=key, match=match_by_place
        )
        session.commit()


def working_image(
    ctx: StageContext, asset_id: str, path: Path, label: str, handed: DecodedPhoto | None = None
) -> tuple[Image.Image, int]:
    """The upright RGB photo at the working size, and the original's upright width.

    The renditions stage decoded the original once already, upright and in sRGB, for the
    `large` rendition: when that has the working size, the picture it handed on (run
    right after it) or else the rendition is read instead (a 2560 px JPEG decodes in a
    tenth of the time of a 24-megapixel one). Otherwise (another working size, a
    rendition not there) the original is decoded here.
    """
    edge = ctx.settings.face_max_edge_px
    # A picture with transparency is searched as the rendition shows it (on white).
    if (
        handed is not None
        and handed.working.mode == "RGB"
        and handed.working.size == fit_within(*handed.full_size, edge)
    ):
        return handed.working, handed.full_size[0]
    with open_image(
        path, label=label, max_pixels=ctx.settings.max_image_pixels, long_edge=edge
    ) as image:
        full_width, full_height = upright_dimensions(image)
        wanted = fit_within(full_width, full_height, edge)
        shared = _large_rendition(ctx, asset_id, wanted)
        if shared is not None:
            return shared, full_width
        upright = decode_for_renditions(image, label=label, path=path, long_edge=edge)
        return _rgb(upright), full_width


def detail_pixels(path: Path, *, label: str, max_pixels: int, smallest_face: int) -> np.ndarray:
    """The original at the smallest JPEG DCT scale (1/8 .. 1) where `smallest_face` px of the
    original still measure SMALLEST_IN_REGIONS px: decoding at 1/2 costs a third of the
    full decode, and P-Net enlarges what it needs (up to 1.5x) inside the regions.
    """
    with open_image(path, label=label, max_pixels=max_pixels, long_edge=RAW_DETAIL_EDGE) as image:
        edge = detail_edge(image.width, image.height, smallest_face)
        full = decode_for_renditions(image, label=label, path=path, long_edge=edge)
        return np.asarray(_rgb(full))


def detail_edge(width: int, height: int, smallest_face: int) -> int:
    """The long edge of the detail picture: the original at the smallest JPEG DCT scale
    (1/8 .. 1) that keeps `smallest_face` px at SMALLEST_IN_REGIONS px, and at most
    DETAIL_MAX_PIXELS (a 196-megapixel picture is searched at a quarter)."""
    shrink = 1
    while shrink < 8 and smallest_face / (shrink * 2) >= SMALLEST_IN_REGIONS:
        shrink *= 2
    while shrink < 8 and width * height / (shrink * shrink) > DETAIL_MAX_PIXELS:
        shrink *= 2
    return math.ceil(max(width, height) / shrink)


def _large_rendition(ctx: StageContext, asset_id: str, size: tuple[int, int]) -> Image.Image | None:
    with ctx.session() as session:
        row = session.exec(
            select(Rendition).where(Rendition.asset_id == asset_id, Rendition.name == "large")
        ).first()
    if row is None or (row.width, row.height) != size:
        return None
    try:
        with Image.open(ctx.blobs.root / row.path, formats=["JPEG"]) as image:
            image.load()
            return image.convert("RGB")  # a copy that outlives the file
    except (OSError, ValueError):
        return None  # missing or damaged: decode the original instead


def _rgb(image: Image.Image) -> Image.Image:
    # convert() copies even when the mode is right: 18 MB per detail picture.
    return image if image.mode == "RGB" else image.convert("RGB")


def find_faces(
    upright: Image.Image,
    *,
    min_face: float,
    recognise: bool,
    whole_frame_from: float | None = None,
    detail: Callable[[], np.ndarray] | None = None,
) -> list[FoundFace]:
    """Faces in an upright RGB image, with crops and (if `recognise`) embeddings.

    Faces from `whole_frame_from` px up are looked for everywhere, smaller ones (down to
    `min_face`) where skin colours make them possible (`ingest.faces.regions`).
    """
    rgb = np.asarray(upright)
    detections: list[Detection] = detect_faces(
        rgb, min_face=min_face, whole_frame_from=whole_frame_from, detail=detail
    )
    vectors: list[np.ndarray | None] = [None] * len(detections)
    if recognise and detections:
        vectors = list(describer().describe(rgb, [d.box for d in detections]))
    width, height = upright.size
    return [
        FoundFace(
            box=relative(d.box, width, height),
            score=d.score,
            crop=crop_jpeg(upright, d.box),
            embedding=vector,
        )
        for d, vector in zip(detections, vectors, strict=True)
    ]


def crop_jpeg(upright: Image.Image, box: Box) -> bytes:
    """A padded crop of one face as a small JPEG (the face's picture in lists)."""
    return encode_crop(upright.crop(pixel_bounds(padded(box, upright.width, upright.height))))
