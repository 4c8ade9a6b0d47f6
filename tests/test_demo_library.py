"""The generated demo library: the photos, a real video made by ffmpeg, made once; and a
photo with a face only when an installed package ships one."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path

import av
import pytest
from PIL import Image

from dam.models import AssetKind
from dam.settings import get_settings
from ingest import demo
from ingest.sniff import HEAD_BYTES, sniff
from tests import faces_corpus
from tests.test_cli import cli_env, dam  # noqa: F401 (a fixture)

pytestmark = pytest.mark.one_database


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo library, generated once for this module (the photos take a while)."""
    folder = tmp_path_factory.mktemp("demo")
    demo.generate_demo_library(folder)
    return folder


def test_the_demo_library_holds_a_video_and_is_made_once(library: Path) -> None:
    made = {p: p.stat().st_mtime_ns for p in library.iterdir()}
    paths = demo.generate_demo_library(library)
    assert [p.name for p in paths[:-1]] == [photo.filename for photo in demo.DEMO]
    video = paths[-1]
    assert video.name == demo.DEMO_VIDEO
    with video.open("rb") as fh:
        sniffed = sniff(fh.read(HEAD_BYTES))
    assert (sniffed.kind, sniffed.mime) == (AssetKind.video, "video/mp4")
    with av.open(str(video)) as container:
        kinds = sorted(s.type for s in container.streams)
        assert kinds == ["audio", "video"]
        assert container.streams.video[0].width == 1280
        assert container.duration is not None
        assert container.duration / 1_000_000 == pytest.approx(demo.DEMO_VIDEO_SECONDS, abs=0.2)
    assert not list(library.glob(".*.part"))
    assert {p: p.stat().st_mtime_ns for p in library.iterdir()} == made  # nothing made twice


def test_every_demo_photo_names_its_copyright_holder_readably(library: Path) -> None:
    """No "?? Vlaamse overheid": a TIFF's ASCII Copyright tag gets no "©" it cannot hold."""
    for photo in demo.DEMO:
        with Image.open(library / photo.filename) as image:
            holder = str(image.getexif().get(0x8298, ""))
        assert holder.endswith("Vlaamse overheid") and "?" not in holder, (photo.filename, holder)


def test_no_face_photo_unless_a_package_ships_one(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if importlib.util.find_spec("skimage") is None:
        assert demo.installed_face_photo() is None
        assert demo.DEMO_FACES not in {p.name for p in demo.generate_demo_library(library)}
    try:
        astronaut = faces_corpus.astronaut()  # the file scikit-image's wheel ships
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))
    # Lay it out as the installed package has it, and put that first on the path.
    package = tmp_path / "site" / "skimage"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "astronaut.png").write_bytes(astronaut.read_bytes())
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "skimage", raising=False)
    importlib.invalidate_caches()
    assert demo.installed_face_photo() == package / "data" / "astronaut.png"

    copy = shutil.copytree(library, tmp_path / "library")
    faces = demo.generate_demo_library(copy)[-1]
    assert faces.name == demo.DEMO_FACES
    with Image.open(faces) as image:
        assert (image.format, image.size) == ("JPEG", (512, 512))
        assert b"Astronaute Eileen Collins" in image.info["xmp"]


def test_demo_twice_is_harmless(
    cli_env: dict[str, str],  # noqa: F811 (the fixture imported above)
    library: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `dam demo` makes only the files that are missing (checked above): it finds them
    # made. The demo photos hold no face, and this test is about the command,
    # not the detector: without it the test takes a fifth less CPU.
    shutil.copytree(library, Path(cli_env["DAM_DATA_DIR"]) / "demo-library")
    monkeypatch.setenv("DAM_FACE_DETECTION", "false")
    get_settings.cache_clear()
    first = dam("demo")
    assert first.exit_code == 0, first.output
    assert "Imported 13 (0 of them could not be processed)" in first.output  # 12 photos, 1 video
    password = first.output.rsplit("password:", 1)[1].split()[0]
    second = dam("demo")
    assert second.exit_code == 0
    assert "Imported 0" in second.output and "already imported 13" in second.output
    assert second.output.rsplit("password:", 1)[1].split()[0] == password
    assert os.stat(Path(cli_env["DAM_DATA_DIR"]) / "demo-admin.txt").st_mode & 0o077 == 0
