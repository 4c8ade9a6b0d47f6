"""Download presets: what size, shape and format each one asks for (pure).

`fit` presets keep the whole picture within a longest edge; `crop` presets cut a window
of their aspect ratio (dam/crops.py chooses where) and scale it to their size. Nothing is
ever scaled up: a small picture gives a smaller file of the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dam.errors import N_, InvalidInput

Format = Literal["jpeg", "webp", "avif", "png", "tiff"]
FORMATS: dict[str, str] = {
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "avif": "image/avif",
    "png": "image/png",
    "tiff": "image/tiff",
}
EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "avif": "avif", "png": "png", "tiff": "tif"}
MAX_EDGE = 12_000  # custom sizes above this are refused (a decompression bomb the other way)
MIN_EDGE = 16
VIDEO_PRESETS = ("web_720", "web_1080")


def web_versions_down_from(name: str) -> tuple[str, ...]:
    """The video web versions that may stand in for `name`, best first: `name`, then the
    smaller ones (a 720p video has no `web_1080`: nothing is scaled up)."""
    if name not in VIDEO_PRESETS:
        return (name,)
    return tuple(reversed(VIDEO_PRESETS[: VIDEO_PRESETS.index(name) + 1]))


# The presets' names for people (the ZIP form, a ZIP's README), as message ids.
PRESET_LABELS = {
    "web": N_("Web (1600 px)"),
    "large": N_("Large (2560 px)"),
    "print": N_("Print (full resolution)"),
    "square": N_("Square (1080 × 1080)"),
    "portrait": N_("Portrait (1080 × 1350)"),
    "landscape": N_("Landscape (1920 × 1080)"),
    "story": N_("Story (1080 × 1920)"),
    "banner": N_("Banner"),
}


@dataclass(frozen=True)
class Preset:
    name: str
    mode: Literal["original", "fit", "crop"]
    width: int = 0  # fit: longest edge (0: full resolution); crop: output size
    height: int = 0
    quality: int = 85
    icc: bool = False  # keep the ICC profile (print) instead of converting to sRGB


FIT_PRESETS = {
    "original": Preset("original", "original"),
    "large": Preset("large", "fit", 2560, 2560),
    "web": Preset("web", "fit", 1600, 1600),
    "print": Preset("print", "fit", 0, 0, quality=95, icc=True),
}
CROP_SIZES = {
    "square": (1080, 1080),
    "portrait": (1080, 1350),
    "landscape": (1920, 1080),
    "story": (1080, 1920),
}
IMAGE_PRESETS = (*FIT_PRESETS, *CROP_SIZES, "banner", "custom")


def parse_size(text: str) -> tuple[int, int]:
    """`1920x600` -> (1920, 600)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"{text!r} is not a size like 1920x600") from None
    if not (MIN_EDGE <= w <= MAX_EDGE and MIN_EDGE <= h <= MAX_EDGE):
        raise ValueError(f"{text!r}: each side between {MIN_EDGE} and {MAX_EDGE} pixels")
    return (w, h)


@dataclass(frozen=True)
class Spec:
    """A resolved request: the preset, the output size limits and the format."""

    preset: Preset
    fmt: str
    width: int  # 0: no limit
    height: int

    @property
    def cropped(self) -> bool:
        return self.preset.mode == "crop"

    @property
    def aspect(self) -> float:
        return self.width / self.height


def resolve(
    preset: str,
    *,
    fmt: str | None,
    width: int | None,
    height: int | None,
    banner: tuple[int, int],
) -> Spec:
    """The spec for a preset name with the optional format and custom size; InvalidInput
    for a combination that does not exist."""
    if fmt is not None and fmt not in FORMATS:
        raise InvalidInput(
            N_("Unknown format %(format)r. Formats are: %(formats)s."),
            params={"format": fmt, "formats": ", ".join(FORMATS)},
        )
    for side in (width, height):
        if side is not None and not MIN_EDGE <= side <= MAX_EDGE:
            raise InvalidInput(
                N_("width and height must lie between %(min)s and %(max)s pixels."),
                params={"min": MIN_EDGE, "max": MAX_EDGE},
            )
    if preset in FIT_PRESETS:
        p = FIT_PRESETS[preset]
        if p.mode == "original" and (fmt or width or height):
            raise InvalidInput("The original is sent as it was stored: no format or size.")
        default = "jpeg" if preset != "original" else "original"
        w, h = p.width, p.height
        if width or height:  # a fit preset with a box: the smaller of the two limits
            w = min(w or MAX_EDGE, width or MAX_EDGE)
            h = min(h or MAX_EDGE, height or MAX_EDGE)
        return Spec(p, fmt or default, w, h)
    if preset in CROP_SIZES or preset == "banner":
        w, h = CROP_SIZES.get(preset, banner)
        if width or height:
            raise InvalidInput(
                N_("The %(preset)s preset has its own size; use preset=custom."),
                params={"preset": preset},
            )
        return Spec(Preset(preset, "crop", w, h), fmt or "jpeg", w, h)
    if preset == "custom":
        if not (width and height):
            raise InvalidInput("preset=custom needs width and height.")
        return Spec(Preset("custom", "crop", width, height), fmt or "jpeg", width, height)
    raise InvalidInput(
        N_("Unknown preset %(preset)r. Presets are: %(presets)s (videos: %(videos)s)."),
        params={
            "preset": preset,
            "presets": ", ".join(IMAGE_PRESETS),
            "videos": ", ".join(VIDEO_PRESETS),
        },
    )


def output_size(crop_w: float, crop_h: float, spec: Spec) -> tuple[int, int]:
    """Pixels out for a crop of crop_w x crop_h source pixels: within the spec's limits,
    of the crop's shape, never larger than the crop itself."""
    scale = 1.0
    if spec.width:
        scale = min(scale, spec.width / crop_w)
    if spec.height:
        scale = min(scale, spec.height / crop_h)
    return (max(1, round(crop_w * scale)), max(1, round(crop_h * scale)))
