"""The segment renderer: decode, align, run an engine, blend, encode."""
