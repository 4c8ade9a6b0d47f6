"""The search document, backends (Tantivy, Meilisearch) and index sync (search issue)."""
