"""Video containers recognised from their first bytes (the sniffer's video half).

Only what the pipeline can demux is accepted; the container decided here is also the one
demuxer ffmpeg is allowed to use for the file (see `ingest.video.formats`), so the
bytes, not the name, pick the code that parses a hostile file.
"""

from __future__ import annotations

from dataclasses import dataclass

from dam.errors import N_, UnsupportedMedia

# Bytes the sniffer must read: an M2TS file shows its third packet sync byte at 388.
HEAD_BYTES_NEEDED = 392

VIDEO_ACCEPTED = (
    "MP4, MOV, M4V, 3GP, WebM, Matroska, AVI, MPEG (MPG, VOB, MOD), MPEG-TS (TS, MTS, M2TS, "
    "TOD), MXF, DV, WMV/ASF, FLV and Ogg"
)


@dataclass(frozen=True)
class VideoSignature:
    mime: str
    label: str  # what a person calls the container; also the key of its demuxer


# ISO base media major brands written by cameras, phones and editors. A file whose major
# brand is unknown is still accepted when it declares one of these as compatible: the
# probe decides then, and refuses what holds no video.
_ISO_VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"iso9",
    b"mp41", b"mp42", b"mp71", b"avc1", b"hvc1", b"av01", b"dash", b"f4v ", b"mmp4",
    b"MSNV", b"XAVC", b"CAEP", b"caqv", b"kddi", b"mqt ", b"niko", b"NDAS", b"NDSC",
    b"NDSH", b"NDSM", b"NDSP", b"NDSS", b"NDXC", b"NDXH", b"NDXM", b"NDXP", b"NDXS",
}  # fmt: skip
_QUICKTIME_BRANDS = {b"qt  "}
_M4V_BRANDS = {b"M4V ", b"M4VH", b"M4VP"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
# ISO media that is neither video nor audio (Canon RAW 3 stills).
_OTHER_BRANDS = {b"crx "}
# Atoms an old QuickTime file (no ftyp) starts with.
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_MXF_PARTITION = b"\x06\x0e\x2b\x34\x02\x05\x01\x01\x0d\x01\x02\x01\x01"
_TS_SYNC = 0x47
# An MPEG program stream (MPG, VOB, MOD from DVD camcorders) opens with a pack header; a
# bare MPEG-1/2 video stream (M1V, some MPG) with a sequence header.
_MPEG_PACK = b"\x00\x00\x01\xba"
_MPEG_SEQUENCE = b"\x00\x00\x01\xb3"
_ASF_HEADER = b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c"
_FLV = b"FLV\x01"
_OGG = b"OggS"
# The identification packets an Ogg file starts with (all streams' first pages come first).
_OGG_VIDEO = (b"\x80theora", b"OVP80", b"BBCD\x00", b"fishead")
_OGG_AUDIO = (b"\x01vorbis", b"OpusHead", b"\x7fFLAC", b"Speex   ")

# Audio and video formats people try, with what to do instead; matched on the first bytes.
_AUDIO: tuple[tuple[bytes, int, str], ...] = (
    (b"ID3", 0, N_("an MP3 recording")),
    (b"fLaC", 0, N_("a FLAC recording")),
    (b"#!AMR", 0, N_("an AMR voice recording")),
    (b"WAVE", 8, N_("a WAV recording")),
    (b"AIFF", 8, N_("an AIFF recording")),
    (b"AIFC", 8, N_("an AIFF recording")),
)
_OTHER_VIDEO: tuple[tuple[bytes, str], ...] = ((b".RMF", N_("a RealMedia file")),)


def sniff_video(head: bytes) -> VideoSignature | None:
    """The container of a video file from its first bytes; None when it is no video.

    Raises UnsupportedMedia for audio files and video formats Beeldbank does not take,
    with what to do instead.
    """
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if len(head) >= 8 and head[4:8] in _QUICKTIME_ATOMS and int.from_bytes(head[:4], "big") >= 8:
        return VideoSignature("video/quicktime", "QuickTime MOV")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # The EBML header names its document type within its first few dozen bytes.
        if b"webm" in head[:64]:
            return VideoSignature("video/webm", "WebM")
        return VideoSignature("video/x-matroska", "Matroska")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return VideoSignature("video/x-msvideo", "AVI")
    if _packets(head, offset=0, size=188):
        return VideoSignature("video/mp2t", "MPEG-TS")
    if _packets(head, offset=4, size=192):
        return VideoSignature("video/mp2t", "M2TS")
    if head.startswith(_MXF_PARTITION):
        return VideoSignature("application/mxf", "MXF")
    found = _legacy(head)
    if found is None:
        _refuse_known(head)
    return found


def _legacy(head: bytes) -> VideoSignature | None:
    """The containers of 1995-2010 archives: MPEG-1/2, DV, Windows Media, Flash, Ogg."""
    if head.startswith(_MPEG_PACK):
        return VideoSignature("video/mpeg", "MPEG-PS")
    if head.startswith(_MPEG_SEQUENCE):
        return VideoSignature("video/mpeg", "MPEG video")
    if _dv(head):
        return VideoSignature("video/dv", "DV")
    if head.startswith(_ASF_HEADER):
        return VideoSignature("video/x-ms-asf", "WMV/ASF")
    if head.startswith(_FLV):
        if len(head) > 4 and head[4] == 0x04:  # the header's flags: sound only
            raise _audio("a Flash audio file (FLV without pictures)")
        return VideoSignature("video/x-flv", "FLV")
    if head.startswith(_OGG):
        if any(magic in head for magic in _OGG_VIDEO) or not any(
            magic in head for magic in _OGG_AUDIO
        ):
            return VideoSignature("video/ogg", "Ogg")
        raise _audio("an Ogg recording (Vorbis, Opus or FLAC)")
    return None


def _dv(head: bytes) -> bool:
    """A raw DV stream: its first DIF block is a header block of sequence 0 (the same test
    ffmpeg's DV probe makes), the next one a subcode block."""
    if len(head) < 160:
        return False
    header = head[0] == 0x1F and head[1] == 0x07 and head[2] == 0x00 and head[3] & 0x7F == 0x3F
    return header and head[80] & 0xE0 == 0x20  # section type 1: subcode


def _iso_media(head: bytes) -> VideoSignature | None:
    major = head[8:12]
    size = int.from_bytes(head[:4], "big")
    compatible = {head[i : i + 4] for i in range(16, min(len(head), max(size, 16)) - 3, 4)}
    if major in _AUDIO_BRANDS:
        raise _audio(N_("an MPEG-4 audio file (M4A)"))
    if major in _OTHER_BRANDS:
        return None
    if major in _QUICKTIME_BRANDS:
        return VideoSignature("video/quicktime", "QuickTime MOV")
    if major in _M4V_BRANDS:
        return VideoSignature("video/x-m4v", "M4V")
    if major.startswith(b"3g2"):
        return VideoSignature("video/3gpp2", "3G2")
    if major[:3] in (b"3gp", b"3ge", b"3gg", b"3gr", b"3gs"):
        return VideoSignature("video/3gpp", "3GP")
    if major in _ISO_VIDEO_BRANDS or compatible & (_ISO_VIDEO_BRANDS | _QUICKTIME_BRANDS):
        return VideoSignature("video/mp4", "MP4")
    return None


def _packets(head: bytes, *, offset: int, size: int) -> bool:
    """Three transport-stream sync bytes one packet apart (one could be chance)."""
    positions = [offset + size * i for i in range(3)]
    return len(head) > positions[-1] and all(head[p] == _TS_SYNC for p in positions)


def _refuse_known(head: bytes) -> None:
    """Raises for known audio and video formats Beeldbank does not take; None otherwise."""
    for magic, at, what in _AUDIO:
        if head[at : at + len(magic)] == magic:
            raise _audio(what)
    # MPEG audio and ADTS AAC frames start with an 11-bit sync word (0xFFE..); JPEG's
    # 0xFFD8 never matches it.
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        raise _audio(N_("an MP3 or AAC recording"))
    for magic, what in _OTHER_VIDEO:
        if head.startswith(magic):
            raise UnsupportedMedia(
                N_(
                    "This file type is not accepted (it is %(what)s). Convert it to MP4 "
                    "(H.264 or HEVC) first; Beeldbank accepts %(videos)s videos."
                ),
                params={"what": what, "videos": VIDEO_ACCEPTED},
            )


def _audio(what: str) -> UnsupportedMedia:
    return UnsupportedMedia(
        N_(
            "This file type is not accepted (it is %(what)s). Beeldbank keeps photos and videos "
            "only; to publish a recording, add it to a video first."
        ),
        params={"what": what},
    )
