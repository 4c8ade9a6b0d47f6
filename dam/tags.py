"""Tag suggestions: the tags people use most, for autocompletion in the UI."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from dam.models import AssetTag


def popular_tags(session: Session, *, prefix: str = "", limit: int = 50) -> list[str]:
    """The most used tags (optionally starting with `prefix`), most used first."""
    count = func.count().label("n")
    query = select(AssetTag.tag, count).group_by(col(AssetTag.tag))
    prefix = prefix.strip().lower()
    if prefix:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(col(AssetTag.tag).like(f"{escaped}%", escape="\\"))
    rows = session.exec(query.order_by(count.desc(), col(AssetTag.tag)).limit(limit))
    return [tag for tag, _ in rows]
