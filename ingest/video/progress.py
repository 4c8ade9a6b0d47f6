"""ffmpeg's `-progress` output: key=value lines in blocks that end with `progress=...`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ProgressParser:
    """Feed it lines; it returns the output time (seconds) at the end of each block."""

    _out_time_s: float | None = None
    finished: bool = False

    def feed(self, line: str) -> float | None:
        key, sep, value = line.strip().partition("=")
        if not sep:
            return None
        value = value.strip()
        if key == "out_time_us" or (key == "out_time_ms" and self._out_time_s is None):
            # out_time_ms is in microseconds too (a long-standing ffmpeg quirk).
            if value.lstrip("-").isdigit():
                self._out_time_s = max(0.0, int(value) / 1_000_000)
        elif key == "out_time" and self._out_time_s is None:
            self._out_time_s = _clock(value)
        elif key == "progress":
            self.finished = value == "end"
            seconds, self._out_time_s = self._out_time_s, None
            return seconds
        return None


def fraction(seconds: float | None, duration_s: float | None) -> float | None:
    """How far along (0..1) an output time is in a video of `duration_s`."""
    if seconds is None or not duration_s or duration_s <= 0:
        return None
    return max(0.0, min(1.0, seconds / duration_s))


def _clock(text: str) -> float | None:
    parts = text.split(":")
    if len(parts) != 3:
        return None
    try:
        hours, minutes, seconds = int(parts[0]), int(parts[1]), float(parts[2])
    except ValueError:
        return None
    return max(0.0, hours * 3600 + minutes * 60 + seconds)
