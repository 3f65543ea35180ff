"""Lip-sync engines behind one interface (see :mod:`lipcore.engines.base`)."""
