"""Pillow's own test images, fetched once from the sdist of the installed Pillow.

Pillow keeps ~1,000 real-world and hostile images in `Tests/images/` (fuzzing crashes,
truncated files, odd modes, decompression bombs). They are not ours to commit, so they are
downloaded with pip into `.cache/` (git-ignored) the first time a test asks for them.
"""

from __future__ import annotations

import fcntl
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import PIL

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "pillow-corpus"


class CorpusUnavailable(Exception):
    """The sdist could not be fetched (no network, no such version on the index)."""


def pillow_tests_dir(version: str = PIL.__version__) -> Path:
    """`Tests/` of Pillow `version` (holding `images/` and `icc/`), fetched on first use."""
    target = CACHE / version / "Tests"
    if (target / "images").is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with _exclusive(CACHE / ".lock"):  # two test processes must not unpack at once
        if not (target / "images").is_dir():
            _unpack(_download(version), target)
    return target


def corpus_files(images: Path) -> list[Path]:
    """Every regular file below `images`, in a stable order."""
    return sorted(p for p in images.rglob("*") if p.is_file() and not p.is_symlink())


_PATH = re.compile(r"(?:[A-Za-z]:)?[\\/][\w.-]+[\\/][\w.-]+")
_IDENTIFIER = re.compile(
    r"\b\w+_\w+\b"  # snake_case or CONSTANT_NAMES
    r"|\b[A-Z]\w*(?:Error|Exception|Warning)\b"  # exception class names
    r"|\berror -?\d+"  # a decoder's status code
)
_REPR = ("Traceback", "object at 0x", "<", ">", "Errno", "unexpected error")


def message_problem(message: object) -> str | None:
    """Why `message` is not fit for a person (a path, a repr, a crash), or None when it is."""
    if not isinstance(message, str) or len(message.strip()) < 20:
        return f"too short or missing: {message!r}"
    if not message[0].isupper() or not message.rstrip().endswith("."):
        return f"not a sentence: {message!r}"
    if _PATH.search(message):
        return f"names a path: {message!r}"
    if _IDENTIFIER.search(message) or any(marker in message for marker in _REPR):
        return f"reads like code, not words: {message!r}"
    return None


def _download(version: str) -> Path:
    downloads = CACHE / "sdist"
    existing = sorted(downloads.glob(f"pillow-{version}.tar.gz"))
    if existing:
        return existing[0]
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--no-binary", "pillow", f"pillow=={version}", "-d", str(downloads),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    found = sorted(downloads.glob(f"pillow-{version}.tar.gz"))
    if result.returncode != 0 or not found:
        raise CorpusUnavailable(
            f"pip could not download the Pillow {version} sdist: "
            f"{(result.stderr or result.stdout).strip()[-300:]}"
        )
    return found[0]


def pip_download(name: str, version: str, *, binary: bool, pattern: str, downloads: Path) -> Path:
    """`name`'s wheel (`binary`) or sdist, fetched with pip into `downloads` once."""
    found = sorted(downloads.glob(pattern))
    if found:
        return found[0]
    kind = ["--only-binary", ":all:"] if binary else ["--no-binary", name]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind,
               f"{name}=={version}", "-d", str(downloads)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    found = sorted(downloads.glob(pattern))
    if result.returncode != 0 or not found:
        raise CorpusUnavailable(
            f"pip could not download {name} {version}: {(result.stderr or result.stdout)[-300:]}"
        )
    return found[0]


def _unpack(sdist: Path, target: Path) -> None:
    """Extract only `Tests/images` and `Tests/icc`, then move them into place atomically."""
    wanted = ("Tests/images/", "Tests/icc/")
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch, tarfile.open(sdist) as archive:
        members = [
            m
            for m in archive.getmembers()
            if any(part in m.name for part in wanted) and (m.isfile() or m.isdir())
        ]
        # The "data" filter refuses absolute paths, links out of the tree and device files.
        archive.extractall(scratch, members=members, filter="data")
        unpacked = next(Path(scratch).glob("*/Tests"))
        target.parent.mkdir(parents=True, exist_ok=True)
        unpacked.rename(target)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
