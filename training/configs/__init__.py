"""Training presets as frozen dataclasses (nanoGPT-style ``config/*.py``, without exec)."""
