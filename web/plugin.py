"""Adds `dam serve` to the command line."""

from __future__ import annotations

import typer

from dam.cli import app, console, runtime


def register() -> None:
    app.command("serve")(serve_command)


def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve the UI and API with an in-process job consumer (migrates first)."""
    import uvicorn

    from web.app import create_app

    with runtime() as rt:
        rt.queue.start_consumer(rt.settings.workers)
        console.print(f"Beeldbank on http://{host}:{port}  (API docs: /docs)")
        uvicorn.run(
            create_app(rt),
            host=host,
            port=port,
            log_level=rt.settings.log_level.lower(),
            access_log=False,
        )
