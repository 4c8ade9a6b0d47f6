"""The video pipeline: content signatures, probing, hardened ffmpeg, renditions,
poster and storyboard, captions and playback data."""
