"""The video viewer: frame-exact decoding off the GUI thread, overlays, and the transport."""
