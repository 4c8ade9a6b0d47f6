"""Legacy video, end to end with real ffmpeg: what a 1995-2015 archive holds (MPEG-1/2
program streams, Xvid/DivX and MS-MPEG4 AVIs, H.263 phone clips, DV, Windows Media, Ogg
Theora, Flash video, Motion JPEG) is sniffed, probed and converted to the web versions;
interlaced material is deinterlaced; sound that cannot be decoded is left out and the asset
says so.

Every sample is written by ffmpeg here (small frames, half a second) and cached per session.
WMV 9 / VC-1 and MS-MPEG4 v1 are accepted too but not in the matrix: ffmpeg has no
encoder for them.
SQLite only, like tests/test_video_pipeline.py: these exercise ffmpeg, not the database.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from dam.models import AssetStatus
from dam.runtime import Runtime
from ingest.sniff import HEAD_BYTES, sniff
from ingest.video.info import AUDIO_UNDECODABLE, VideoInfo
from ingest.video.mp4box import top_level_boxes
from ingest.video.probe import probe
from tests import db_templates
from tests import video_clips as clips
from tests.conftest import Account
from tests.ui_client import log_in
from tests.video_clips import Clip

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    target = tmp_path / "beeldbank.db"
    db_templates.copy_sqlite(sqlite_template, target)
    yield f"sqlite:///{target}"


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("legacy-clips")


def probe_file(path: Path) -> VideoInfo:
    with path.open("rb") as fh:
        label = sniff(fh.read(HEAD_BYTES)).label
    return probe(path, label=label)


SMALL = {"size": "160x120", "seconds": 0.5}
MP3 = ("-c:a", "libmp3lame", "-b:a", "64k")
DV_AUDIO = ("-c:a", "pcm_s16le", "-ac", "2")
# Two successive pictures woven into one frame, top field first: real combing wherever the
# test pattern moves, as an interlaced camera records it.
WEAVE = ",tinterlace=interleave_top,setfield=tff"
INTERLACED_MPEG2 = ("-c:v", "mpeg2video", "-q:v", "3", "-flags", "+ilme+ildct")

# clip, sniffed label, probed codec, interlaced
LEGACY = [
    (Clip("mpeg1-mpg", "mpg", **SMALL, video=("-c:v", "mpeg1video", "-q:v", "5"),
          audio=("-c:a", "mp2"), extra=("-f", "mpeg")), "MPEG-PS", "mpeg1video", False),
    (Clip("mpeg2-vob", "vob", **SMALL, video=("-c:v", "mpeg2video", "-q:v", "5"),
          audio=("-c:a", "ac3"), extra=("-f", "vob")), "MPEG-PS", "mpeg2video", False),
    (Clip("mpeg1-m1v", "m1v", **SMALL, video=("-c:v", "mpeg1video", "-q:v", "5"), audio=None,
          extra=("-f", "mpeg1video")), "MPEG video", "mpeg1video", False),
    (Clip("mpeg2-tod", "tod", **SMALL, video=("-c:v", "mpeg2video", "-q:v", "5"),
          audio=("-c:a", "ac3"), extra=("-f", "mpegts")), "MPEG-TS", "mpeg2video", False),
    (Clip("xvid-avi", "avi", **SMALL, video=("-c:v", "mpeg4", "-vtag", "XVID", "-q:v", "5"),
          audio=MP3), "AVI", "mpeg4", False),
    (Clip("divx-avi", "avi", **SMALL, video=("-c:v", "mpeg4", "-vtag", "DX50", "-q:v", "5"),
          audio=("-c:a", "ac3")), "AVI", "mpeg4", False),
    (Clip("mp4v-mov", "mov", **SMALL, video=("-c:v", "mpeg4", "-q:v", "5")),
     "QuickTime MOV", "mpeg4", False),
    (Clip("msmpeg4v2-avi", "avi", **SMALL, video=("-c:v", "msmpeg4v2", "-q:v", "5"),
          audio=("-c:a", "adpcm_ms")), "AVI", "msmpeg4v2", False),
    (Clip("msmpeg4v3-avi", "avi", **SMALL, video=("-c:v", "msmpeg4", "-vtag", "DIV3", "-q:v",
          "5"), audio=MP3), "AVI", "msmpeg4v3", False),
    (Clip("h263-amr-3gp", "3gp", size="176x144", rate=15, seconds=0.5, video=("-c:v", "h263",
          "-q:v", "5"), audio=("-c:a", "libopencore_amrnb", "-ar", "8000", "-ac", "1")),
     "3GP", "h263", False),
    (Clip("dv-pal", "dv", size="720x576", rate=25, seconds=0.3, video=("-c:v", "dvvideo",
          "-pix_fmt", "yuv420p"), audio=DV_AUDIO, extra=("-f", "dv")), "DV", "dvvideo", True),
    (Clip("dv-ntsc-avi", "avi", size="720x480", seconds=0.2, video=("-c:v", "dvvideo",
          "-pix_fmt", "yuv411p", "-r", "30000/1001"), audio=DV_AUDIO), "AVI", "dvvideo", True),
    (Clip("dv-mov", "mov", size="720x576", rate=25, seconds=0.2, video=("-c:v", "dvvideo",
          "-pix_fmt", "yuv420p"), audio=DV_AUDIO), "QuickTime MOV", "dvvideo", True),
    (Clip("wmv2-wma", "wmv", **SMALL, video=("-c:v", "wmv2", "-q:v", "5"),
          audio=("-c:a", "wmav2", "-b:a", "64k")), "WMV/ASF", "wmv2", False),
    (Clip("wmv1-asf", "asf", **SMALL, video=("-c:v", "wmv1", "-q:v", "5"),
          audio=("-c:a", "wmav1", "-b:a", "64k")), "WMV/ASF", "wmv1", False),
    (Clip("theora-ogv", "ogv", **SMALL, video=("-c:v", "libtheora", "-q:v", "5"),
          audio=("-c:a", "libvorbis")), "Ogg", "theora", False),
    (Clip("sorenson-flv", "flv", **SMALL, video=("-c:v", "flv", "-q:v", "5"),
          audio=("-c:a", "adpcm_swf", "-ar", "22050")), "FLV", "flv1", False),
    (Clip("h264-flv", "flv", **SMALL), "FLV", "h264", False),
    (Clip("mjpeg-mov", "mov", **SMALL, video=("-c:v", "mjpeg", "-q:v", "5"),
          audio=("-c:a", "pcm_s16le")), "QuickTime MOV", "mjpeg", False),
    (Clip("interlaced-mod", "mod", size="320x240", rate=50, seconds=0.6, source_filters=WEAVE,
          video=INTERLACED_MPEG2, audio=("-c:a", "mp2"), extra=("-f", "vob")),
     "MPEG-PS", "mpeg2video", True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("clip", "label", "codec", "interlaced"), LEGACY, ids=[c[0].name for c in LEGACY]
)
def test_legacy_video_becomes_web_versions(
    rt: Runtime, clip_dir: Path, clip: Clip, label: str, codec: str, interlaced: bool
) -> None:
    source = clips.render(clip, clip_dir)
    assert sniff(source.read_bytes()[:HEAD_BYTES]).label == label
    source_info = probe_file(source)
    assert (source_info.codec, source_info.interlaced) == (codec, interlaced)
    assert source_info.duration_s == pytest.approx(clip.seconds, abs=0.12)
    asset_id = clips.store(rt, source)
    row = clips.asset(rt, asset_id)
    assert row.status == AssetStatus.ready, row.error
    made = clips.renditions(rt, asset_id)
    assert {"web_720", "poster", "thumb", "storyboard"} <= set(made)
    web_path = rt.blobs.root / made["web_720"].path
    web = probe_file(web_path)
    assert (web.codec, web.profile, web.pix_fmt, web.interlaced) == (
        "h264",
        "High",
        "yuv420p",
        False,
    )
    assert (web.width, web.height) == (made["web_720"].width, made["web_720"].height)
    assert web.sar == 1
    # Upright and in shape: a DV frame's pixels are not square, the web version's are.
    ratio = source_info.display_width / source_info.display_height
    assert web.width / web.height == pytest.approx(ratio, rel=0.02)
    assert web.duration_s == pytest.approx(source_info.duration_s, abs=0.12)
    assert row.duration_s == pytest.approx(source_info.duration_s, abs=0.01)
    if clip.audio is None:
        assert web.audio is None
    else:
        assert web.audio is not None and (web.audio.codec, web.audio.sample_rate) == ("aac", 48000)
        assert row.meta["video"]["audio_note"] is None
    kinds = [kind for kind, _ in top_level_boxes(web_path)]
    assert kinds.index("moov") < kinds.index("mdat")
    poster = made["poster"]
    assert (poster.width, poster.height) == (web.width, web.height)
    assert clips.leftovers(rt) == []


def gray_frame(path: Path, index: int) -> np.ndarray:
    """Picture number `index` of a file, as it is stored (no deinterlacing), in grey."""
    done = subprocess.run(
        [clips.ffmpeg(), "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{index})",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    return np.frombuffer(done.stdout, np.uint8).reshape(240, 320).astype(float)


def combing(picture: np.ndarray) -> float:
    """How much each line differs from the mean of its neighbours: high where two fields
    of a moving picture are woven together, low in a progressive picture."""
    return float(np.abs(picture[1:-1] - (picture[:-2] + picture[2:]) / 2).mean())


def test_interlaced_material_is_deinterlaced(rt: Runtime, clip_dir: Path) -> None:
    clip = next(c for c, *_ in LEGACY if c.name == "interlaced-mod")
    source = clips.render(clip, clip_dir)
    asset_id = clips.store(rt, source)
    web = rt.blobs.root / clips.renditions(rt, asset_id)["web_720"].path
    assert clips.asset(rt, asset_id).meta["video"]["interlaced"] is True
    for index in (4, 8, 12):
        woven, shown = combing(gray_frame(source, index)), combing(gray_frame(web, index))
        assert woven > 2.5, woven  # the source really is combed ...
        assert shown < woven * 0.6, (index, woven, shown)  # ... its web version is not


def garble_avi_sound(source: Path, target: Path) -> None:
    """The AVI with every audio chunk overwritten by noise: the container still describes
    MP3 sound (so the probe takes it), but not one frame of it decodes."""
    data = bytearray(source.read_bytes())
    noise = random.Random(17)
    at, end = 0, data.find(b"idx1")
    while (at := data.find(b"01wb", at)) != -1 and at < end:
        size = int.from_bytes(data[at + 4 : at + 8], "little")
        data[at + 8 : at + 8 + size] = noise.randbytes(size)
        at += 8 + size
    target.write_bytes(bytes(data))


def garbled_clip(clip_dir: Path, tmp_path: Path) -> Path:
    clip = Clip("sound-to-garble", "avi", **SMALL, video=("-c:v", "mpeg4", "-q:v", "5"), audio=MP3)
    garbled = tmp_path / "garbled.avi"
    garble_avi_sound(clips.render(clip, clip_dir), garbled)
    return garbled


def test_sound_that_cannot_be_decoded_is_left_out_and_said(
    rt: Runtime, clip_dir: Path, tmp_path: Path
) -> None:
    garbled = garbled_clip(clip_dir, tmp_path)
    assert probe_file(garbled).audio is not None  # the probe cannot tell
    asset_id = clips.store(rt, garbled)
    row = clips.asset(rt, asset_id)
    assert row.status == AssetStatus.ready, row.error
    assert row.meta["video"]["audio_note"] == AUDIO_UNDECODABLE
    assert row.meta["video"]["audio"] is None
    web = probe_file(rt.blobs.root / clips.renditions(rt, asset_id)["web_720"].path)
    assert web.audio is None and web.duration_s == pytest.approx(0.5, abs=0.12)
    assert clips.leftovers(rt) == []


def test_sound_with_a_broken_header_is_left_out_at_the_probe(
    rt: Runtime, clip_dir: Path, tmp_path: Path
) -> None:
    clip = Clip("vorbis-mkv", "mkv", **SMALL, audio=("-c:a", "libvorbis"))
    broken = tmp_path / "broken.mkv"
    # The Vorbis identification header loses its signature: no decoder opens it.
    broken.write_bytes(
        clips.render(clip, clip_dir).read_bytes().replace(b"\x01vorbis", b"\x01xorbis")
    )
    asset_id = clips.store(rt, broken)
    row = clips.asset(rt, asset_id)
    assert row.status == AssetStatus.ready, row.error
    assert row.meta["video"]["audio_note"] == AUDIO_UNDECODABLE
    web = probe_file(rt.blobs.root / clips.renditions(rt, asset_id)["web_720"].path)
    assert web.audio is None


def test_the_asset_page_says_the_web_versions_have_no_sound(
    client: TestClient, creative: Account, clip_dir: Path, tmp_path: Path
) -> None:
    garbled = garbled_clip(clip_dir, tmp_path)
    response = client.post(
        "/api/v1/assets",
        headers=creative.headers,
        files={"file": ("interview.avi", garbled.read_bytes(), "video/x-msvideo")},
    )
    assert response.status_code == 201, response.text
    log_in(client, creative)
    page = client.get(f"/assets/{response.json()['id']}")
    assert page.status_code == 200
    assert "De webversies van deze video hebben geen geluid" in page.text
