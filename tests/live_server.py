"""A real uvicorn server in a background thread, for clients that speak HTTP over sockets.

TestClient calls the app in-process, so it cannot show what happens when a connection is
cut halfway through a body, and clients built on `requests` (tuspy) cannot use it at all.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from dam.runtime import Runtime
from web.app import create_app

START_TIMEOUT_S = 10.0


def free_socket() -> socket.socket:
    """A socket bound to a free 127.0.0.1 port (its address is known before serving)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def base_url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def running(app: FastAPI, sock: socket.socket | None = None) -> Iterator[str]:
    """Serve `app` on a free 127.0.0.1 port (or on `sock`); yield its base URL; stop it on
    exit."""
    # Binding the socket here, not in uvicorn, tells us the port before the server starts
    # (a caller that must know the address before it builds the app binds it first).
    sock = sock or free_socket()
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the live server did not start")
        time.sleep(0.01)
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_S)
        sock.close()


@pytest.fixture
def live_server(rt: Runtime) -> Iterator[str]:
    """Base URL of the app for `rt`, served by uvicorn on loopback."""
    with running(create_app(rt)) as url:
        yield url
