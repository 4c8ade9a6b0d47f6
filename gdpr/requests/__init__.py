"""gdpr.requests: data subject requests: access export, erasure, retention."""
