"""What the pipeline lets ffmpeg read: one demuxer per sniffed container, known codecs.

ffmpeg picks a demuxer by probing the bytes, and some demuxers open further files or
URLs (HLS and DASH playlists, concat lists, image sequences, QuickTime data references).
Beeldbank never lets it choose: the container decided by content sniffing names the one
demuxer allowed for the file, and nested opens are refused by the same whitelist.
"""

from __future__ import annotations

from dam.errors import ProcessingError

# Sniffed label (ingest.video.signatures) -> ffmpeg demuxer.
DEMUXERS: dict[str, str] = {
    "MP4": "mov",
    "QuickTime MOV": "mov",
    "M4V": "mov",
    "3GP": "mov",
    "3G2": "mov",
    "WebM": "matroska",
    "Matroska": "matroska",
    "AVI": "avi",
    "MPEG-TS": "mpegts",
    "M2TS": "mpegts",
    "MXF": "mxf",
}

# Decoders the pipeline accepts (ffmpeg codec names as the probe reports them).
VIDEO_CODECS: dict[str, str] = {
    "h264": "H.264",
    "hevc": "HEVC",
    "prores": "ProRes",
    "dnxhd": "DNxHD/DNxHR",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mpeg2video": "MPEG-2",
    "mjpeg": "Motion JPEG",
}

# Audio is optional; a known but unusual codec is transcoded, an unknown one is left out.
AUDIO_CODECS = frozenset(
    {
        "aac", "mp3", "mp2", "ac3", "eac3", "opus", "vorbis", "flac", "alac",
        "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_s32le", "pcm_s32be",
        "pcm_f32le", "pcm_f32be", "pcm_u8", "pcm_mulaw", "pcm_alaw", "amr_nb", "amr_wb",
        "dts", "truehd", "pcm_bluray", "pcm_dvd", "adpcm_ima_qt", "adpcm_ima_wav",
    }
)  # fmt: skip


def demuxer_for(label: str) -> str:
    """The only demuxer ffmpeg may use for a file sniffed as `label`."""
    try:
        return DEMUXERS[label]
    except KeyError:
        raise ProcessingError(
            f"Beeldbank cannot read {label} files as video. Convert the file to MP4 first."
        ) from None


def input_options(demuxer: str) -> dict[str, str]:
    """ffmpeg input options that keep the demuxer from reaching beyond the one file."""
    options = {
        "f": demuxer,
        "format_whitelist": demuxer,
        # Local files and our own pipes only: no http, tcp, concat, subfile, data, crypto.
        "protocol_whitelist": "file,pipe",
    }
    if demuxer == "mov":
        # QuickTime data references can point at other files on the machine.
        options["enable_drefs"] = "0"
    return options
