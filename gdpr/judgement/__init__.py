"""gdpr.judgement: the verdicts: rules, facts, cache, texts, feed step, check."""
