"""Runs in a child process: renders the first page of one PDF with PDFium (pypdfium2).

A signed form is a file from outside, and PDFium parses and draws it in C: a crafted PDF
can nest without end, claim a page of kilometres, hide a decompression bomb in an image
or draw millions of paths. So it runs here, in a disposable process with a memory cap, a
CPU cap and a wall-clock timeout (`ingest.child_process`); a crash or a hang costs this
child, never the web server. Only the first page is opened, its size is checked before
anything is drawn, and it is drawn at most SIDE pixels on its long side. It imports
nothing from Beeldbank so that it starts fast.

Usage: python pdf_child.py PATH OUT SIDE MAX_POINTS
       -> the page as a JPEG written to OUT, {"width", "height"} (pixels) on stdout, or
          {"error": "unreadable" | "no_page" | "too_large", ...}
"""

from __future__ import annotations

import json
import sys

import pypdfium2 as pdfium

QUALITY = 85
MAX_SCALE = 4.0  # a business card is not drawn at a poster's resolution


def main(argv: list[str]) -> int:
    path, out, side, max_points = argv[1], argv[2], int(argv[3]), float(argv[4])
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        return _emit({"error": "unreadable", "detail": str(exc)[:200]})
    try:
        if len(document) == 0:
            return _emit({"error": "no_page"})
        page = document[0]
        width, height = page.get_size()  # in points (1/72 inch)
        if not (width >= 1 and height >= 1):
            return _emit({"error": "no_page"})
        if max(width, height) > max_points:
            # Refused before drawing: PDF itself allows 14,400 points (5 m) a side.
            return _emit({"error": "too_large", "width_pt": width, "height_pt": height})
        scale = min(side / max(width, height), MAX_SCALE)
        image = page.render(scale=scale).to_pil().convert("RGB")
        image.save(out, "JPEG", quality=QUALITY, optimize=True)
        return _emit({"width": image.width, "height": image.height})
    except pdfium.PdfiumError as exc:
        return _emit({"error": "unreadable", "detail": str(exc)[:200]})
    finally:
        document.close()


def _emit(answer: dict[str, object]) -> int:
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
