"""Bounds on what the video pipeline accepts and how long and large its work may get.

Constants rather than settings: they guard the machine against hostile or broken files,
and no legitimate camera file comes near them.
"""

from __future__ import annotations

# 8K UHD is the largest picture cameras record; a 16K "video" is a decompression bomb.
MAX_EDGE_PX = 8192
MAX_PIXELS = 8192 * 4320
# A day of footage; a file claiming more is damaged or crafted.
MAX_DURATION_S = 24 * 3600.0

# Per ffmpeg run: a fixed allowance plus seconds of work per second of video. 4K HEVC
# 10-bit into two H.264 renditions runs at about a third of real time on two cores.
TIME_LIMIT_BASE_S = 120.0
TIME_LIMIT_PER_VIDEO_S = 10.0

# ffmpeg's own address-space cap. Decoding 8K with frame threads and encoding two
# renditions stays well under it; a file that makes ffmpeg allocate more is refused.
FFMPEG_MEMORY_BYTES = 8 * 1024**3
# The largest single allocation ffmpeg may make (an 8K 16-bit frame is about 200 MB).
FFMPEG_MAX_ALLOC_BYTES = 1024**3

# The probe runs in its own process with these limits.
PROBE_TIMEOUT_S = 60.0
PROBE_MEMORY_BYTES = 3 * 1024**3

# How often a running ffmpeg reports (heartbeat) and checks for cancellation.
REPORT_INTERVAL_S = 1.0


def time_limit(duration_s: float) -> float:
    """Seconds one ffmpeg run over a video of `duration_s` may take."""
    return TIME_LIMIT_BASE_S + TIME_LIMIT_PER_VIDEO_S * max(0.0, duration_s)
