"""The photo pipeline: decode, metadata, renditions, placeholders and perceptual hashes."""
