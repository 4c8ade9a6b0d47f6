"""The FastAPI application: JSON API under /api/v1 and (later) the server-rendered UI."""
