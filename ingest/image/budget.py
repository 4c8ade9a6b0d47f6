"""What a photo job declares to the job runner's memory budget, read from the header."""

from __future__ import annotations

from dam.blobs import human_size
from dam.errors import N_, ProcessingError
from dam.jobs import StageContext
from ingest.image import camera_raw, layered
from ingest.image.decode import jpeg_frame, open_image
from ingest.image.errors import megapixels
from ingest.image.plan import decode_need
from ingest.image.renditions import LARGEST_EDGE
from ingest.originals import load_original

# Encoders, the placeholder and the hash around the decoded pixels.
RENDITIONS_OVERHEAD = 64 * 1024**2
# The face detector's image pyramid, its networks' activations and the proposals, per
# pixel it searches: measured 2.2 GB for a 4000 × 4000 picture (about 140 bytes a pixel),
# plus the models themselves. The decode's buffers are gone by then.
FACES_BYTES_PER_PIXEL = 150
FACES_OVERHEAD = 256 * 1024**2


def renditions_need(ctx: StageContext) -> int:
    need, _pixels = _decode_need(ctx, LARGEST_EDGE)
    return need + RENDITIONS_OVERHEAD


def faces_need(ctx: StageContext) -> int:
    if not ctx.settings.face_detection:
        return 0
    edge = ctx.settings.face_max_edge_px
    need, pixels = _decode_need(ctx, edge)
    return max(need, min(pixels, edge * edge) * FACES_BYTES_PER_PIXEL) + FACES_OVERHEAD


def _decode_need(ctx: StageContext, long_edge: int) -> tuple[int, int]:
    """Bytes the decode will take; ProcessingError when that is more than one job may use."""
    _asset, path, label = load_original(ctx)
    if camera_raw.is_camera_raw(path, label):
        # Planned from LibRaw's header: a development is not lazy, so nothing is decoded.
        facts = camera_raw.read_facts(path, label=label)
        width, height = facts.width, facts.height
        need = camera_raw.decode_need(facts, long_edge)
    elif label in layered.LABELS:
        header = layered.read_header(path, label=label)
        width, height = header.width, header.height
        need = layered.decode_need(header, long_edge)
    else:
        with open_image(path, label=label, max_pixels=ctx.settings.max_image_pixels) as image:
            width, height = image.size
            need = decode_need(
                format=image.format,
                mode=image.mode,
                width=width,
                height=height,
                long_edge=long_edge,
                frame=jpeg_frame(image, path),
            )
    budget = ctx.settings.job_memory_bytes
    if need > budget:
        raise ProcessingError(
            N_(
                "The %(label)s image is %(width)s × %(height)s pixels (%(mp)s megapixels); "
                "decoding it needs about %(need)s of memory, more than the %(budget)s this "
                "server gives one job. The original is kept; reduce its size and upload it again."
            ),
            params={
                "label": label,
                "width": f"{width:,}",
                "height": f"{height:,}",
                "mp": megapixels(width * height),
                "need": human_size(need),
                "budget": human_size(budget),
            },
        )
    return need, width * height
