"""Real files from a registry package (tests/media_samples.py: iscc-samples), beside the
generated matrix: legacy containers and codecs as other tools wrote them, a 3GP from a
non-ffmpeg encoder through the whole pipeline, and a PSD saved by Photoshop, decoded in
its child process."""

from __future__ import annotations

from pathlib import Path

import pytest

from dam.errors import UnsupportedMedia
from dam.models import AssetStatus
from dam.runtime import Runtime
from ingest.sniff import HEAD_BYTES, sniff
from ingest.video.probe import probe
from tests import media_samples
from tests import video_clips as store
from tests.corpus import CorpusUnavailable

pytestmark = [pytest.mark.one_database, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def samples() -> Path:
    try:
        return media_samples.iscc_files()
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize(
    ("name", "label", "codec", "audio", "size"),
    [
        ("demo.asf", "WMV/ASF", "msmpeg4v3", "wmav2", (176, 144)),
        ("demo.wmv", "WMV/ASF", "msmpeg4v3", "wmav2", (176, 144)),
        ("demo.flv", "FLV", "flv1", "mp3", (176, 144)),
        ("demo.vob", "MPEG-PS", "mpeg2video", "mp2", (176, 144)),
        ("demo.mpeg", "MPEG-PS", "mpeg1video", "mp2", (176, 144)),
        ("demo.ogv", "Ogg", "theora", "vorbis", (176, 144)),
        ("demo.avi", "AVI", "mpeg4", "mp3", (176, 144)),
        ("demo.3gp", "3GP", "h263", "amr_nb", (384, 288)),  # 12:11 pixels, shown wider
    ],
)
def test_legacy_videos_from_other_tools_are_probed(
    samples: Path, name: str, label: str, codec: str, audio: str, size: tuple[int, int]
) -> None:
    path = samples / "video" / name
    sniffed = sniff(path.read_bytes()[:HEAD_BYTES])
    assert sniffed.label == label
    info = probe(path, label=sniffed.label)
    assert (info.codec, info.audio.codec if info.audio else None) == (codec, audio)
    assert (info.display_width, info.display_height) == size
    assert 59.5 < info.duration_s < 61.0


def test_realmedia_is_refused_with_the_reason(samples: Path) -> None:
    with pytest.raises(UnsupportedMedia, match="it is a RealMedia file"):
        sniff((samples / "video" / "demo.rm").read_bytes()[:HEAD_BYTES])


def test_a_mainconcept_3gp_becomes_a_web_version_with_its_sound(rt: Runtime, samples: Path) -> None:
    asset_id = store.store(rt, samples / "video" / "demo.3gp")
    row = store.asset(rt, asset_id)
    assert row.status == AssetStatus.ready, row.error
    assert row.duration_s is not None and 59.5 < row.duration_s < 61.0
    made = store.renditions(rt, asset_id)
    assert {"web_720", "poster"} <= set(made)
    web = probe(rt.blobs.root / made["web_720"].path, label="MP4")
    assert web.codec == "h264" and web.audio is not None and web.audio.codec == "aac"
    assert (web.display_width, web.display_height) == (384, 288)  # square pixels now


def test_a_photoshop_cc_document_shows_its_composite_and_title(rt: Runtime, samples: Path) -> None:
    asset_id = store.store(rt, samples / "image" / "demo.psd")
    row = store.asset(rt, asset_id)
    assert row.status == AssetStatus.ready, row.error
    assert (row.width, row.height) == (200, 133)
    assert row.title == "Concentrated Cat"  # from the document's XMP, read in the child
    assert any(r.mime.startswith("image/") for r in store.renditions(rt, asset_id).values())
