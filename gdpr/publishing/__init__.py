"""gdpr.publishing: what leaves with consent: share links, usages, redaction, file access."""
