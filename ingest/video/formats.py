"""What the pipeline lets ffmpeg read: one demuxer per sniffed container, known codecs.

ffmpeg picks a demuxer by probing the bytes, and some demuxers open further files or
URLs (HLS and DASH playlists, concat lists, image sequences, QuickTime data references).
Beeldbank never lets it choose: the container decided by content sniffing names the one
demuxer allowed for the file, and nested opens are refused by the same whitelist.
"""

from __future__ import annotations

from dam.errors import N_, ProcessingError

# Sniffed label (ingest.video.signatures) -> ffmpeg demuxer. Each legacy entry says why it
# is here; none of these demuxers opens another file or URL (that is what the list keeps out:
# hls, dash, concat, image2, the playlist readers) and each reads its one container only.
DEMUXERS: dict[str, str] = {
    "MP4": "mov",
    "QuickTime MOV": "mov",
    "M4V": "mov",
    "3GP": "mov",
    "3G2": "mov",
    "WebM": "matroska",
    "Matroska": "matroska",
    "AVI": "avi",
    "MPEG-TS": "mpegts",  # also JVC Everio .tod files
    "M2TS": "mpegts",
    "MXF": "mxf",
    # DVD camcorders, DVDs (.vob), JVC/Panasonic SD cameras (.mod), 1990s-2000s edit suites.
    "MPEG-PS": "mpeg",
    # Bare MPEG-1/2 video (.m1v, .m2v, some .mpg): a raw reader, no index, no references.
    "MPEG video": "mpegvideo",
    # MiniDV and DVCAM tapes captured by FireWire (.dv); the raw DIF stream reader.
    "DV": "dv",
    # Windows Media (.wmv, .asf) from 2000s Windows workflows; ASF has no external references.
    "WMV/ASF": "asf",
    # Flash video (.flv), what web video of 2002-2012 was archived as.
    "FLV": "flv",
    # Ogg (.ogv, .ogg) with Theora, from Wikimedia and open-source workflows.
    "Ogg": "ogg",
}

# Decoders the pipeline accepts (ffmpeg codec names as the probe reports them), with the
# name people know them by. Every decoder here parses hostile input in the probe child
# (capped) and in the hardened ffmpeg; the legacy ones are old, fuzzed and widely used.
VIDEO_CODECS: dict[str, str] = {
    "h264": "H.264",
    "hevc": "HEVC",
    "prores": "ProRes",
    "dnxhd": "DNxHD/DNxHR",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mpeg2video": "MPEG-2",
    "mjpeg": "Motion JPEG",  # photo cameras' video mode and capture cards (AVI, MOV)
    "mpeg1video": "MPEG-1",  # Video CDs and 1990s .mpg files
    "mpeg4": "MPEG-4 Part 2",  # Xvid, DivX 4-6 and mp4v: the codec of 2000s AVI archives
    "msmpeg4v1": "MS-MPEG4 v1",  # early Windows Media / DivX 3 era AVIs
    "msmpeg4v2": "MS-MPEG4 v2",
    "msmpeg4v3": "MS-MPEG4 v3 (DivX 3)",
    "h263": "H.263",  # 3GP phone clips and early video calls
    "h263p": "H.263+",
    "flv1": "Sorenson Spark",  # Flash video's first codec (FLV)
    "dvvideo": "DV",  # MiniDV, DVCAM and DVCPRO tapes (DV, AVI, MOV)
    "wmv1": "WMV 7",  # Windows Media Video in ASF
    "wmv2": "WMV 8",
    "wmv3": "WMV 9",
    "vc1": "VC-1",  # WMV 9 Advanced Profile, also on some Blu-ray and HD camcorders
    "theora": "Theora",  # Ogg video
}

# Audio is optional; a known but unusual codec is transcoded, an unknown one is left out
# (and the asset says so: ingest.video.info.AudioInfo / VideoInfo.audio_note).
AUDIO_CODECS = frozenset(
    {
        "aac", "mp3", "mp2", "ac3", "eac3", "opus", "vorbis", "flac", "alac",
        "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_s32le", "pcm_s32be",
        "pcm_f32le", "pcm_f32be", "pcm_u8", "pcm_mulaw", "pcm_alaw", "amr_nb", "amr_wb",
        "dts", "truehd", "pcm_bluray", "pcm_dvd", "adpcm_ima_qt", "adpcm_ima_wav",
        # Legacy sound: MPEG-1 Layer I (early VCD tools), Windows Media Audio (ASF/WMV),
        # Flash's ADPCM and Nellymoser (FLV), Microsoft ADPCM (old AVI captures).
        "mp1", "wmav1", "wmav2", "wmapro", "adpcm_swf", "nellymoser", "adpcm_ms",
    }
)  # fmt: skip


def demuxer_for(label: str) -> str:
    """The only demuxer ffmpeg may use for a file sniffed as `label`."""
    try:
        return DEMUXERS[label]
    except KeyError:
        raise ProcessingError(
            N_("Beeldbank cannot read %(label)s files as video. Convert the file to MP4 first."),
            params={"label": label},
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
