"""Training of the sync expert and the generator (depends on lipcore, never the reverse)."""
