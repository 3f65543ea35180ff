"""Batches: many lip-sync jobs from one manifest, run on Dask, resumable, with a report per job.

:mod:`~.manifest` reads and checks the manifest (JSON or TOML), :mod:`~.job` runs one job and
keeps its state and report files, :mod:`~.runner` sends the jobs to a Dask cluster (a
``LocalCluster`` by default, or an existing scheduler) and turns worker events into progress.
"""
