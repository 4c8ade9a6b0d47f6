"""Every image in Pillow's own test suite goes through the upload API.

Pillow's `Tests/images/` holds ~1,000 files: ordinary photos in every mode and bit depth,
exotic formats, and fuzzing finds (crashes, timeouts, out-of-memory triggers, truncated
and decompression-bomb files). Whatever arrives, Beeldbank must answer sensibly: refuse it
(413/415) with a reason, or store it and end `ready` with the size Pillow itself reports,
or end `failed` with a sentence a person can act on. Never a 5xx, never a hang.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections import Counter
from pathlib import Path

import pillow_heif
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageOps

from tests.conftest import Account, unavailable
from tests.corpus import CorpusUnavailable, corpus_files, message_problem, pillow_tests_dir

# About 40 s on an idle 2-core machine, in chunks: each chunk is a test of its own, so a
# chunk's failures name its files, and the file counts as many tests. (pytest-xdist hands
# out files by their number of tests, largest first: as one test this file ran last,
# alone, for minutes.)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600), pytest.mark.one_database]
CHUNKS = 24

pillow_heif.register_heif_opener()

# No single file may take long: a fuzzing "timeout" sample that made a decoder spin would
# show up here. The largest file (a 10 MB MPO) takes under a second on an idle machine; the
# margin is for machines busy with other work.
PER_FILE_SECONDS = 30.0
HEALTH_EVERY = 10


@pytest.fixture(scope="module")
def images() -> Path:
    """Pillow's `Tests/images` folder for the installed Pillow version."""
    try:
        return pillow_tests_dir() / "images"
    except CorpusUnavailable as exc:
        unavailable(str(exc))
        raise  # unreachable: unavailable() skips or fails


def upright_size_by_pillow(path: Path) -> tuple[int, int]:
    """What Pillow reports for the picture once its EXIF orientation is applied: the first
    frame; a Photoshop document's composite (its frames are layers); a TIFF's largest page
    that is not a reduced-resolution copy (a thumbnail page)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the corpus is meant to make Pillow complain
        with Image.open(path) as image:
            if image.format == "PSD":
                return image.size
            image.seek(largest_page(image) if image.format == "TIFF" else 0)
            return ImageOps.exif_transpose(image).size


def largest_page(image: Image.Image) -> int:
    areas: dict[int, int] = {}
    for page in range(getattr(image, "n_frames", 1)):
        try:
            image.seek(page)
        except Exception:
            break  # a damaged page ends the pages
        reduced = int(image.tag_v2.get(254, 0) or 0) & 1  # type: ignore[attr-defined]
        areas[page] = 0 if reduced else image.width * image.height
    return max(areas, key=lambda page: areas[page], default=0)


@pytest.fixture(scope="module")
def outcomes() -> Counter[str]:
    """What became of each file, summed over the chunks (the last test checks the sums)."""
    return Counter()


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_every_pillow_test_image_is_refused_ready_or_failed_with_a_reason(
    chunk: int,
    client: TestClient,
    creative: Account,
    images: Path,
    outcomes: Counter[str],
) -> None:
    """Each chunk uploads every CHUNKS-th file into a library of its own (so a file whose
    bytes repeat in another chunk is new there, not a duplicate)."""
    corpus = corpus_files(images)
    assert len(corpus) > 900, f"only {len(corpus)} files unpacked from the Pillow sdist"
    problems: list[str] = []
    asset_by_sha: dict[str, str] = {}
    for number, path in enumerate(corpus[chunk::CHUNKS]):
        name = str(path.relative_to(images))
        data = path.read_bytes()
        began = time.perf_counter()
        response = client.post(
            "/api/v1/assets",
            headers=creative.headers,
            files={"file": (path.name, data, "application/octet-stream")},
        )
        asset = None
        if response.status_code in (200, 201):
            asset_id = response.json()["id"]
            asset = client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).json()
        took = time.perf_counter() - began
        if took > PER_FILE_SECONDS:
            problems.append(f"{name}: took {took:.1f} s")
        problem = judge(
            name, path, data, response.status_code, response.json(), asset, asset_by_sha, outcomes
        )
        if problem:
            problems.append(problem)
        if number % HEALTH_EVERY == 0:
            health = client.get("/healthz")
            if health.status_code != 200:
                problems.append(f"/healthz answered {health.status_code} after {name}")
    assert client.get("/healthz").status_code == 200
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def test_the_corpus_is_mostly_photos_that_become_ready(
    outcomes: Counter[str], images: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The corpus is mostly decodable photos: a pipeline that refused or failed them
    wholesale would still "answer sensibly" above, so the counts are pinned loosely too.
    (Runs after the chunks: pytest keeps a file's order.)"""
    with capsys.disabled():
        print(
            f"\nPillow corpus: {len(corpus_files(images))} files: "
            + ", ".join(f"{count} {kind}" for kind, count in sorted(outcomes.items()))
        )
    assert sum(outcomes.values()) == len(corpus_files(images)), "a chunk did not finish"
    assert outcomes["ready"] > 600
    assert 300 < outcomes["refused"] < 500
    assert outcomes["failed"] < 40


def judge(
    name: str,
    path: Path,
    data: bytes,
    status: int,
    body: dict,
    asset: dict | None,
    asset_by_sha: dict[str, str],
    outcomes: Counter[str],
) -> str | None:
    """Count one file's outcome; return what is wrong with it, if anything."""
    if status >= 500:
        return f"{name}: {status} {body}"
    if status in (413, 415):
        outcomes["refused"] += 1
        problem = message_problem(body.get("error", {}).get("message"))
        return f"{name}: refusal {problem}" if problem else None
    sha = hashlib.sha256(data).hexdigest()
    if status == 200:
        # The same bytes under another name: the first upload's asset comes back.
        outcomes["duplicate"] += 1
        if not body.get("duplicate") or asset_by_sha.get(sha) != body["id"]:
            return f"{name}: 200 without being a duplicate of an earlier file: {body}"
        return None
    if status != 201 or asset is None:
        return f"{name}: unexpected answer {status} {body}"
    asset_by_sha[sha] = body["id"]
    if asset["status"] == "failed":
        outcomes["failed"] += 1
        problem = message_problem(asset["error"])
        return f"{name}: failure {problem}" if problem else None
    if asset["status"] != "ready":
        return f"{name}: still {asset['status']} after inline processing"
    outcomes["ready"] += 1
    if asset["kind"] != "image":
        # Sniffed as a video (no Pillow test file is one today): Pillow has no size to offer.
        return f"{name}: a Pillow test image became a {asset['kind']} asset"
    expected = upright_size_by_pillow(path)
    if (asset["width"], asset["height"]) != expected:
        return f"{name}: {asset['width']}x{asset['height']}, Pillow says {expected}"
    return renditions_problem(name, asset)


def renditions_problem(name: str, asset: dict) -> str | None:
    """Renditions must exist and stand the same way as the asset (a double turn shows here)."""
    width, height = asset["width"], asset["height"]
    if not asset["renditions"]:
        return f"{name}: ready without renditions"
    if abs(width - height) <= max(width, height) * 0.02:
        return None  # square-ish: rounding decides, nothing to compare
    for rendition in asset["renditions"]:
        if (rendition["width"] > rendition["height"]) != (width > height):
            return f"{name}: {width}x{height} but rendition {rendition}"
    return None
