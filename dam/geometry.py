"""The one rectangle: an axis-aligned box with a top-left origin, in pixels or in
fractions (0..1) of the upright image. Face detection (ingest/faces) and crops (dam/crops)
both use it, and what the people named in a file's metadata are matched by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels (or in 0..1 units when relative), top-left origin."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def area(self) -> float:
        return max(0.0, self.w) * max(0.0, self.h)

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def scaled(self, factor: float) -> Box:
        """The same region in an image resized by `factor`."""
        return Box(self.x * factor, self.y * factor, self.w * factor, self.h * factor)

    def contains(self, other: Box, slack: float = 1e-6) -> bool:
        return (
            other.x >= self.x - slack
            and other.y >= self.y - slack
            and other.right <= self.right + slack
            and other.bottom <= self.bottom + slack
        )

    def as_text(self) -> str:
        return ",".join(f"{v:.4f}" for v in (self.x, self.y, self.w, self.h))


def iou(a: Box, b: Box) -> float:
    """Intersection over union; 0 for boxes that do not touch."""
    ix = min(a.right, b.right) - max(a.x, b.x)
    iy = min(a.bottom, b.bottom) - max(a.y, b.y)
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    return inter / (a.area + b.area - inter)
