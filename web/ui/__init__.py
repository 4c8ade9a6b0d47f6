"""The server-rendered UI: Jinja2 pages, small ES modules, Dutch and English."""
