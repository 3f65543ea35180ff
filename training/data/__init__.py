"""Training data: face crops and audio features cut from clips, cached as npz."""
