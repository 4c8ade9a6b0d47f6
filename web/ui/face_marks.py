"""What the asset page shows of each face: a numbered box over the picture, the person's
name only to roles that may see people, the state, and for videos when the face is seen.

Pure: faces and names in, plain values out; the template words them in the viewer's
language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dam.models import Face, FaceState
from web.api.face_schemas import crop_url


@dataclass(frozen=True)
class FaceMark:
    id: str
    number: int  # 1, 2, ... in the order the list shows them; the box shows it too
    state: str
    # Percentages of the upright picture, clamped so the box stays inside it.
    left: float
    top: float
    width: float
    height: float
    person_id: str | None = None  # these four only for roles that may see people
    name: str | None = None
    crop_url: str | None = None
    reason: str | None = None
    start_s: float | None = None  # videos
    span: str | None = None  # "0:12–0:31"


def clock(seconds: float) -> str:
    """83.4 -> "1:23"; hours when needed (as the player shows times)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def time_span(start: float | None, end: float | None) -> str | None:
    """When a face is seen in a video: "0:12–0:31", or "0:12" for one moment."""
    if start is None:
        return None
    first = clock(start)
    last = clock(end) if end is not None and end > start else first
    return first if last == first else f"{first}–{last}"


def _percent(value: float) -> float:
    return round(min(max(value, 0.0), 1.0) * 100, 3)


def face_marks(
    faces: Sequence[Face], *, names: Mapping[str, str] | None, video: bool
) -> list[FaceMark]:
    """The marks of an asset's faces. `names` (person id -> name) is None for a role that
    may not see people: such a viewer gets anonymous boxes, and no dismissed faces (they
    are no one)."""
    shown = [f for f in faces if names is not None or f.state != FaceState.dismissed]
    if video:  # in the order people appear; photos keep their reading order
        shown.sort(key=lambda f: (f.time_s if f.time_s is not None else float("inf"), f.box_x))
    marks = []
    for number, face in enumerate(shown, start=1):
        left, top = _percent(face.box_x), _percent(face.box_y)
        width = min(_percent(face.box_w), round(100 - left, 3))
        height = min(_percent(face.box_h), round(100 - top, 3))
        personal = names is not None
        marks.append(
            FaceMark(
                id=face.id,
                number=number,
                state=str(face.state),
                left=left,
                top=top,
                width=width,
                height=height,
                person_id=face.person_id if personal else None,
                name=names.get(face.person_id) if names is not None and face.person_id else None,
                crop_url=crop_url(face) if personal else None,
                reason=face.dismiss_reason if personal else None,
                start_s=face.time_s if video else None,
                span=time_span(face.time_s, face.time_end_s) if video else None,
            )
        )
    return marks
