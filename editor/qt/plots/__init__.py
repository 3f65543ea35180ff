"""pyqtgraph plots shown in the editor (the sync-confidence lane)."""
