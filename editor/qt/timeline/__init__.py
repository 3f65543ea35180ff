"""The timeline: painted lanes (thumbnails, waveforms, faces, segments) and the sync lane."""
