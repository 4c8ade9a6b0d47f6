"""Beeldbank core: settings, database, models, blobs, jobs, events, audit, auth, CLI."""
