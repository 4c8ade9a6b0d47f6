"""People, faces, consent and the publishability verdict (consent issue)."""
