"""`dam reindex`."""

from __future__ import annotations

import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dam.cli import console, fail, runtime
from dam.wiring import Wiring
from search.backend import WriterBusy


def register(wiring: Wiring) -> None:
    wiring.add_command("reindex", reindex_command)


def reindex_command() -> None:
    """Rebuild the search index from the database; searches go on meanwhile."""
    from search.maintenance import count_assets, rebuild
    from search.service import service_for

    with runtime() as rt:
        service = service_for(rt)
        total = count_assets(service)
        started = time.perf_counter()
        columns = (
            TextColumn("Indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("index", total=total)
            try:
                written = rebuild(
                    service, progress=lambda done: progress.update(task, completed=done)
                )
            except WriterBusy as exc:
                raise fail(f"{exc}. Try again, or stop the other process first.") from None
        seconds = time.perf_counter() - started
        console.print(
            f"Indexed {written} assets in {seconds:.1f} s into {service.backend().describe()}."
        )
