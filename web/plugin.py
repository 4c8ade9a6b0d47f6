"""Wires web into the core: `dam serve` on the command line and the main menu's items."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import typer
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from dam import messages
from dam.cli import console, runtime
from dam.runtime import Runtime
from dam.wiring import Wiring
from web import catalogs
from web.ui import nav
from web.ui.routes import notices, people, privacy


def register(wiring: Wiring) -> None:
    wiring.add_command("serve", serve_command)
    # Jobs that write for a person (a ZIP's manifest) do so in that person's language.
    wiring.extend(messages.TRANSLATOR, "catalogs", catalogs.translate_message)
    for item in (*nav.CORE_ITEMS, notices.NAV_ITEM, people.NAV_ITEM, privacy.NAV_ITEM):
        nav.add(wiring, item)


def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve the UI and API with an in-process job consumer (migrates first)."""
    import uvicorn

    from dam.restore import reapply_ledger
    from web.app import create_app
    from web.proxies import server_options

    with runtime() as rt:
        # A database put back by hand may hold people erased since: not one request first.
        if erased := reapply_ledger(rt):
            console.print(f"Erased again from the erasure ledger: {len(erased)} person(s).")
        web_app = create_app(rt)
        consume_jobs_while_serving(web_app, rt)
        console.print(f"Beeldbank on http://{host}:{port}  (API docs: /docs)")
        uvicorn.run(
            web_app,
            host=host,
            port=port,
            log_level=rt.settings.log_level.lower(),
            access_log=False,
            log_config=None,  # dam.logs configured logging (DAM_LOG_FORMAT)
            **server_options(),
        )


def consume_jobs_while_serving(web_app: FastAPI, rt: Runtime) -> None:
    """Run the job consumer inside the server's lifespan.

    uvicorn re-raises SIGTERM once it has shut down, so code after uvicorn.run() never
    runs; stopping the consumer in the lifespan lets running jobs finish first.
    """
    inner = web_app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            rt.queue.start_consumer(rt.settings.workers)
            try:
                yield state
            finally:
                await run_in_threadpool(rt.queue.stop_consumer)

    web_app.router.lifespan_context = lifespan
