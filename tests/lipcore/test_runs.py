"""Runs of True: the speech ranges' cut and the longest stretch (bite band, frames with a face)."""

from __future__ import annotations

import numpy as np

from lipcore.runs import longest_true_run, true_runs


def test_runs_start_and_end_where_the_flags_change():
    flags = np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    assert true_runs(flags) == [(0, 2), (4, 5), (6, 9)]
    assert true_runs([]) == [] and true_runs([False, False]) == []
    assert true_runs([True]) == [(0, 1)]


def test_the_longest_run_is_the_first_of_equals_and_empty_when_none():
    assert longest_true_run([0, 1, 1, 0, 1, 1, 1]) == (4, 7)  # reaches the end
    assert longest_true_run([1, 1, 0, 1, 1]) == (0, 2)  # first of two equally long
    assert longest_true_run([False, False]) == (0, 0)
