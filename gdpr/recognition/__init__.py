"""gdpr.recognition: who a face is: suggestions, matching, clusters, people, face decisions."""
