"""Real face photos for the face tests, fetched once into `.cache/` (git-ignored).

- dlib 19.5.0's source distribution: `docs/docs/cache/examples/faces/` (group photos from
  PASCAL VOC with annotated face boxes in training.xml/testing.xml) and `.../johns/`
  (11 photos each of 5 people);
- scikit-image's wheel: `skimage/data/astronaut.png`;
- Pillow's own test images (hopper_orientation_*.jpg) come from tests/corpus.py.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from tests.corpus import CACHE as PILLOW_CACHE
from tests.corpus import _exclusive

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
    downloads = CACHE / "downloads"
    found = sorted(downloads.glob(pattern))
    if found:
        return found[0]
    kind = ["--only-binary", ":all:"] if binary else ["--no-binary", name]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind,
               f"{name}=={version}", "-d", str(downloads)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    found = sorted(downloads.glob(pattern))
    if result.returncode != 0 or not found:
        raise FacesCorpusUnavailable(
            f"pip could not download {name} {version}: {(result.stderr or result.stdout)[-300:]}"
        )
    return found[0]
