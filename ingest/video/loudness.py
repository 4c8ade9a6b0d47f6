"""EBU R128 loudness: reading ffmpeg's ebur128 summary, and the normalisation to apply.

Normalisation is linear (one gain for the whole clip, so the mix keeps its dynamics), to
-23 LUFS with true peaks at or below -1 dBTP, as EBU R128 asks. The measurement is a
cheap audio-only pass; the encode then applies ffmpeg's loudnorm with these figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TARGET_LUFS = -23.0
TARGET_TRUE_PEAK_DBTP = -1.0
# loudnorm stays linear while the clip's loudness range fits this (else it compresses).
TARGET_LRA_LU = 20.0
# Quieter than this is silence (ebur128 reports -70 for digital silence): raising it to
# -23 LUFS would only amplify hiss.
SILENCE_LUFS = -60.0

_NUMBER = r"(-?(?:\d+(?:\.\d*)?|inf))"


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    threshold_lufs: float
    range_lu: float
    true_peak_dbtp: float

    @property
    def silent(self) -> bool:
        return self.integrated_lufs <= SILENCE_LUFS

    def as_json(self) -> dict[str, float]:
        return {
            "integrated_lufs": self.integrated_lufs,
            "range_lu": self.range_lu,
            "true_peak_dbtp": self.true_peak_dbtp,
        }


def parse_ebur128_summary(stderr: str) -> Loudness | None:
    """The figures from the 'Summary:' block ffmpeg's ebur128 filter logs at the end."""
    _, found, summary = stderr.rpartition("Summary:")
    if not found:
        return None
    integrated, _, rest = summary.partition("Loudness range:")
    lra_part, _, peak_part = rest.partition("True peak:")
    i = _field(integrated, "I")
    threshold = _field(integrated, "Threshold")
    lra = _field(lra_part, "LRA")
    peak = _field(peak_part, "Peak")
    if None in (i, threshold, lra, peak):
        return None
    return Loudness(i, threshold, lra, peak)  # type: ignore[arg-type]


def loudnorm_options(measured: Loudness) -> dict[str, str]:
    """ffmpeg loudnorm options for a linear pass with `measured` figures."""
    return {
        "I": f"{TARGET_LUFS:g}",
        "TP": f"{TARGET_TRUE_PEAK_DBTP:g}",
        "LRA": f"{TARGET_LRA_LU:g}",
        "measured_I": f"{measured.integrated_lufs:.2f}",
        "measured_TP": f"{max(measured.true_peak_dbtp, -99.0):.2f}",
        "measured_LRA": f"{measured.range_lu:.2f}",
        "measured_thresh": f"{max(measured.threshold_lufs, -99.0):.2f}",
        "linear": "true",
        "print_format": "none",
    }


def _field(text: str, name: str) -> float | None:
    match = re.search(rf"^\s*{name}:\s*{_NUMBER}", text, re.M)
    if match is None:
        return None
    value = float(match.group(1))
    return max(value, -99.0) if value == value else None
