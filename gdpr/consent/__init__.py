"""gdpr.consent: consent versions, withdrawal and its impact, notices."""
