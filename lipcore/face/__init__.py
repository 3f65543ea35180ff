"""Face detection, landmarks and tracks."""
