"""Real media files from a registry package, fetched once into `.cache/` (git-ignored).

`iscc-samples` 0.6.0 (PyPI, CC BY 4.0: the ISCC project's test data) holds one short film
in many containers and a few files other tools wrote:

- video: ASF and WMV (MS-MPEG4 v3 with WMA v2), FLV (Sorenson H.263 with MP3), MPEG-1 and
  VOB (MPEG-2) program streams, Ogg Theora/Vorbis, AVI with MPEG-4 Part 2 and MP3, all
  re-encoded with ffmpeg (Lavf58); a 3GP written by MainConcept's encoder (H.263 with
  AMR-NB); a RealMedia file (RealVideo 1);
- image: a PSD saved by Photoshop CC 2019 (with its composite and XMP: a title).

None of its videos is WMV3/VC-1 or MS-MPEG4 v1; no camera RAW file is in it.
"""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path

from tests.corpus import CACHE as PILLOW_CACHE
from tests.corpus import _exclusive, pip_download

CACHE = PILLOW_CACHE.parent / "media-samples"
ISCC_VERSION = "0.6.0"


def iscc_files() -> Path:
    """iscc-samples' `files/` folder (audio/, image/, text/, video/), fetched on first use;
    CorpusUnavailable when pip cannot fetch it."""
    target = CACHE / f"iscc-samples-{ISCC_VERSION}"
    if (target / "video").is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with _exclusive(CACHE / ".lock"):
        if not (target / "video").is_dir():
            sdist = pip_download(
                "iscc-samples",
                ISCC_VERSION,
                binary=False,
                pattern="iscc_samples-*.tar.gz",
                downloads=CACHE / "downloads",
            )
            wanted = ("/files/image/", "/files/video/")
            with tempfile.TemporaryDirectory(dir=CACHE) as scratch, tarfile.open(sdist) as tar:
                members = [m for m in tar.getmembers() if any(w in m.name for w in wanted)]
                # The "data" filter refuses absolute paths, links out of the tree, devices.
                tar.extractall(scratch, members=members, filter="data")
                next(Path(scratch).glob("*/iscc_samples/files")).rename(target)
    return target
