"""`dam check`: every original present and matching its hash, no orphaned files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from dam.blobs import BlobStore, hash_file
from dam.models import Asset

if TYPE_CHECKING:
    from dam.runtime import Runtime


@dataclass
class CheckReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)  # asset ids
    corrupt: list[str] = field(default_factory=list)  # asset ids
    orphans: list[str] = field(default_factory=list)  # sha256 of files without an asset

    @property
    def problems(self) -> list[str]:
        return (
            [f"missing original for asset {a}" for a in self.missing]
            + [f"original of asset {a} does not match its hash" for a in self.corrupt]
            + [f"orphaned original {sha} (no asset refers to it)" for sha in self.orphans]
        )


def check_originals(
    session: Session, blobs: BlobStore, *, verify_hashes: bool = True
) -> CheckReport:
    report = CheckReport()
    known: set[str] = set()
    for asset_id, sha, size in session.exec(select(Asset.id, Asset.sha256, Asset.size)):
        known.add(sha)
        report.checked += 1
        path = blobs.original_path(sha)
        if not path.is_file():
            report.missing.append(asset_id)
        elif path.stat().st_size != size or (verify_hashes and hash_file(path) != sha):
            report.corrupt.append(asset_id)
    report.orphans = sorted(p.name for p in blobs.iter_originals() if p.name not in known)
    return report


@dataclass
class PartReport:
    """What a package's own check found: a one-line summary and the problems, if any."""

    summary: str
    problems: list[str] = field(default_factory=list)


def run_part(name: str, rt: Runtime) -> PartReport:
    """Run the check a package added as `name` (Wiring.add_check_part)."""
    check = rt.wiring.check_parts.get(name)
    if check is None:
        return PartReport(f"No {name} check is installed.", [f"{name} check missing"])
    return check(rt)
