"""What a photo job declares to the job runner's memory budget, read from the header."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from dam.errors import N_, ProcessingError
from dam.jobs import StageContext
from dam.sizes import Size
from ingest.faces.mtcnn import PNET_STRIDE, PNET_TILE, PNET_WINDOW
from ingest.faces.stage import RAW_DETAIL_EDGE, detail_edge
from ingest.image import camera_raw, layered
from ingest.image.decode import jpeg_frame, open_image
from ingest.image.errors import megapixels
from ingest.image.geometry import fit_within
from ingest.image.plan import decode_need
from ingest.image.renditions import LARGEST_EDGE
from ingest.originals import load_original

# Encoders, the placeholder and the hash around the decoded pixels.
RENDITIONS_OVERHEAD = 64 * 1024**2
# The face models of a worker thread (measured 85 MB while they load), a batch of crops
# for R-Net and O-Net (ingest.faces.mtcnn.BATCH), the descriptor's input.
FACES_OVERHEAD = 128 * 1024**2
# P-Net's activations over one tile of a pyramid level (measured 53 MB for 512 px tiles).
PNET_TILE_BYTES = (PNET_TILE + PNET_WINDOW - PNET_STRIDE) ** 2 * 240
# Per pixel of the working picture: the Pillow image (4 bytes) and its array (3), and
# P-Net's pyramid levels of the whole frame (at most the picture's size, two kept: 3 + 2).
WORKING_BYTES_PER_PIXEL = 12
# Per pixel of the detail picture: its array (3), and the pyramid levels of the regions
# P-Net searches, enlarged up to 1.5x (the whole picture at worst; two kept: 7 + 3.5).
DETAIL_BYTES_PER_PIXEL = 14


@dataclass(frozen=True)
class PhotoPlan:
    """A photo's size and what decoding it to a long edge costs, from its header."""

    label: str
    width: int
    height: int
    raw: bool
    need: Callable[[int], int]  # bytes for a decode to at most this long edge


def renditions_need(ctx: StageContext) -> int:
    plan = photo_plan(ctx)
    return affordable(
        ctx, plan, plan.need(LARGEST_EDGE) + RENDITIONS_OVERHEAD + handed_on(ctx, plan)
    )


def handed_on(ctx: StageContext, plan: PhotoPlan) -> int:
    """The detail picture the renditions stage makes for the faces stage from its own
    decode (ingest.faces.stage.DecodedPhoto), when faces are detected: converted and
    turned, two of them at once at worst, 4 bytes a pixel (Pillow's RGB)."""
    if not ctx.settings.face_detection or plan.raw:
        return 0
    edge = detail_edge(plan.width, plan.height, ctx.settings.face_min_size_px)
    return 2 * 4 * math.prod(fit_within(plan.width, plan.height, edge))


def faces_need(ctx: StageContext) -> int:
    if not ctx.settings.face_detection:
        return 0
    plan = photo_plan(ctx)
    need = faces_memory(
        plan, edge=ctx.settings.face_max_edge_px, smallest_face=ctx.settings.face_min_size_px
    )
    return affordable(ctx, plan, need)


def faces_memory(plan: PhotoPlan, *, edge: int, smallest_face: int) -> int:
    """The faces stage's peak: the working picture's decode (when the large rendition
    cannot stand in), the detail picture's decode beside it, or the two searches."""
    working = math.prod(fit_within(plan.width, plan.height, edge))
    if plan.raw:
        developed = fit_within(plan.width, plan.height, RAW_DETAIL_EDGE)
        detail_long_edge = detail_edge(*developed, smallest_face)
    else:
        detail_long_edge = detail_edge(plan.width, plan.height, smallest_face)
    detail = math.prod(fit_within(plan.width, plan.height, detail_long_edge))
    kept = working * WORKING_BYTES_PER_PIXEL
    detail_decode = plan.need(RAW_DETAIL_EDGE if plan.raw else detail_long_edge)
    search = kept + detail * DETAIL_BYTES_PER_PIXEL + PNET_TILE_BYTES
    return max(plan.need(edge), kept + detail_decode, search) + FACES_OVERHEAD


def photo_plan(ctx: StageContext) -> PhotoPlan:
    """The plan of the job's original, from its header (nothing is decoded)."""
    _asset, path, label = load_original(ctx)
    if camera_raw.is_camera_raw(path, label):
        # Planned from LibRaw's header: a development is not lazy, so nothing is decoded.
        facts = camera_raw.read_facts(path, label=label)
        return PhotoPlan(
            label, facts.width, facts.height, True, lambda e: camera_raw.decode_need(facts, e)
        )
    if label in layered.LABELS:
        header = layered.read_header(path, label=label)
        return PhotoPlan(
            label, header.width, header.height, False, lambda e: layered.decode_need(header, e)
        )
    with open_image(path, label=label, max_pixels=ctx.settings.max_image_pixels) as image:
        width, height = image.size
        format, mode = image.format, image.mode
        frame, transparency = jpeg_frame(image, path), "transparency" in image.info

    def need(edge: int) -> int:
        return decode_need(
            format=format, mode=mode, width=width, height=height, long_edge=edge,
            frame=frame, transparency=transparency,
        )  # fmt: skip

    return PhotoPlan(label, width, height, False, need)


def affordable(ctx: StageContext, plan: PhotoPlan, need: int) -> int:
    """`need`, or a ProcessingError when that is more than one job may use."""
    limit = ctx.settings.job_memory_limit_bytes
    if need > limit:
        raise ProcessingError(
            N_(
                "The %(label)s image is %(width)s × %(height)s pixels (%(mp)s megapixels); "
                "decoding it needs about %(need)s of memory, more than the %(budget)s this "
                "server gives one job. The original is kept; reduce its size and upload it again."
            ),
            params={
                "label": plan.label,
                "width": f"{plan.width:,}",
                "height": f"{plan.height:,}",
                "mp": megapixels(plan.width * plan.height),
                "need": Size(need),
                "budget": Size(limit),
            },
        )
    return need
