"""Sync scoring: how well a mouth follows an audio track, per frame and overall."""
