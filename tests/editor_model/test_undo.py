"""UndoLog: transactions commit/roll back, merging, clean mark, labels and listeners."""

from __future__ import annotations

import pytest

from editor.model.undo import Command, UndoLog


class Append(Command):
    """Appends a value to a list (the smallest reversible edit)."""

    def __init__(self, target: list, value, text: str = "Append"):
        self.target, self.value, self.text = target, value, text

    def do(self):
        self.target.append(self.value)

    def undo(self):
        self.target.pop()


class SetValue(Command):
    """Sets box[0]; merges with following SetValue of the same box (a slider drag)."""

    def __init__(self, box: list, value):
        self.box, self.new, self.text = box, value, "Set value"
        self.old = None

    def do(self):
        if self.old is None:
            self.old = self.box[0]
        self.box[0] = self.new

    def undo(self):
        self.box[0] = self.old

    def merge(self, other):
        if isinstance(other, SetValue) and other.box is self.box:
            self.new = other.new
            return True
        return False


class Boom(Command):
    text = "Boom"

    def do(self):
        raise RuntimeError("boom")

    def undo(self):  # pragma: no cover - never done
        raise AssertionError


def test_push_undo_redo_and_labels():
    log, data = UndoLog(), []
    assert not log.can_undo and not log.can_redo and log.undo_text == ""
    log.push(Append(data, 1, "Add one"))
    log.push(Append(data, 2, "Add two"))
    assert data == [1, 2] and log.undo_text == "Add two"
    assert log.undo() == "Add two"
    assert data == [1] and log.can_redo and log.redo_text == "Add two"
    assert log.redo() == "Add two"
    assert data == [1, 2]
    log.undo()
    log.push(Append(data, 3))  # a new edit drops the redo branch
    assert not log.can_redo and data == [1, 3]
    with pytest.raises(RuntimeError):
        log.redo()


def test_transaction_is_one_step():
    log, data = UndoLog(), []
    with log.transaction("Split segment"):
        log.push(Append(data, 1))
        log.push(Append(data, 2))
    assert data == [1, 2] and log.undo_text == "Split segment"
    log.undo()
    assert data == [] and not log.can_undo
    log.redo()
    assert data == [1, 2]


def test_transaction_rolls_back_on_exception():
    log, data = UndoLog(), [0]
    log.push(Append(data, "kept"))
    with pytest.raises(RuntimeError, match="boom"):
        with log.transaction("Broken edit"):
            log.push(Append(data, 1))
            log.push(Append(data, 2))
            log.push(Boom())
    assert data == [0, "kept"]
    assert log.undo_text == "Append"  # nothing recorded for the failed transaction
    log.undo()
    assert data == [0]


def test_nested_transaction_joins_outer_and_empty_records_nothing():
    log, data = UndoLog(), []
    with log.transaction("Outer"):
        log.push(Append(data, 1))
        with log.transaction("Inner"):
            log.push(Append(data, 2))
    with log.transaction("Nothing"):
        pass
    assert log.undo_text == "Outer"
    log.undo()
    assert data == [] and not log.can_undo


def test_consecutive_mergeable_commands_merge_until_sealed():
    log, box = UndoLog(), [0]
    for v in (1, 2, 3, 4):
        log.push(SetValue(box, v))
    assert box == [4]
    log.undo()
    assert box == [0] and not log.can_undo  # the whole drag was one step
    log.redo()
    assert box == [4]
    log.seal()
    log.push(SetValue(box, 9))
    log.undo()
    assert box == [4]


def test_other_command_breaks_merge():
    log, box, data = UndoLog(), [0], []
    log.push(SetValue(box, 1))
    log.push(Append(data, "x"))
    log.push(SetValue(box, 2))
    log.undo()
    assert box == [1]


def test_clean_state_tracks_save_point():
    log, data = UndoLog(), []
    assert log.is_clean
    log.push(Append(data, 1))
    assert not log.is_clean
    log.mark_clean()
    assert log.is_clean
    log.undo()
    assert not log.is_clean
    log.redo()
    assert log.is_clean
    log.undo()
    log.push(Append(data, 2))  # the saved state is unreachable now
    assert not log.is_clean
    log.undo()
    assert not log.is_clean


def test_merge_into_saved_step_makes_it_dirty():
    log, box = UndoLog(), [0]
    log.push(SetValue(box, 1))
    log.mark_clean()
    log.push(SetValue(box, 2))  # mark_clean sealed: a new step, not merged
    assert not log.is_clean
    log.undo()
    assert log.is_clean and box == [1]


def test_listeners_and_limit():
    calls = []
    log, data = UndoLog(limit=2), []
    log.listeners.append(lambda lg: calls.append((lg.can_undo, lg.undo_text)))
    for v in range(3):
        log.push(Append(data, v, f"Add {v}"))
    assert calls[-1] == (True, "Add 2")
    log.undo()
    log.undo()
    assert not log.can_undo and data == [0]  # the oldest step was dropped


def test_no_undo_inside_transaction():
    log, data = UndoLog(), []
    log.push(Append(data, 1))
    with log.transaction("Open"):
        assert not log.can_undo
        with pytest.raises(RuntimeError):
            log.undo()
