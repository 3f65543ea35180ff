"""Fit check: each line's take against its slot, before anything is rendered.

A take *fits* when it is no longer than its slot; otherwise it *overflows* by the difference.
The report lists every line (the same table for the editor, ``lipsync fit`` and its ``--json``)
and the total overflow, and says how much room the following gap would give.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from lipcore.script.lines import LineTake
from lipcore.script.subtitles import ScriptLine

STATUSES = ("fits", "over", "missing")


@dataclass(frozen=True)
class FitRow:
    """One line of the fit table.

    Attributes:
        index: Line number.
        speaker: Who speaks it.
        text: The line.
        slot_ms: Slot length.
        take_ms: Take length (0 when missing).
        overflow_ms: How much longer the take is than the slot (0 when it fits).
        ratio: Take length / slot length (the speed-up that would make it fit).
        gap_after_ms: Silence between this slot's end and the next line (or the clip end).
        status: "fits", "over" or "missing".
    """

    index: int
    speaker: str
    text: str
    slot_ms: int
    take_ms: float
    overflow_ms: float
    ratio: float
    gap_after_ms: int
    status: str


@dataclass(frozen=True)
class FitReport:
    """The fit table.

    Attributes:
        rows: One row per script line, in order.
        total_overflow_ms: Sum of all overflows.
    """

    rows: tuple[FitRow, ...]
    total_overflow_ms: float

    @property
    def over(self) -> list[FitRow]:
        """Rows whose take overflows its slot."""
        return [r for r in self.rows if r.status == "over"]

    def to_dict(self) -> dict:
        """JSON-ready form (what ``lipsync fit --json`` prints)."""
        return {
            "lines": [asdict(r) for r in self.rows],
            "lines_over": len(self.over),
            "total_overflow_ms": round(self.total_overflow_ms, 1),
        }


def fit_check(
    lines: list[ScriptLine], takes: dict[int, LineTake], clip_end_ms: int | None = None
) -> FitReport:
    """Compare each take's length with its slot.

    Args:
        lines: The script, in time order.
        takes: ``{line index: take}``.
        clip_end_ms: Length of the clip, for the last line's gap (None = unbounded: 0 shown).

    Returns:
        The :class:`FitReport`.
    """
    rows = []
    ordered = sorted(lines, key=lambda ln: ln.start_ms)
    for k, line in enumerate(ordered):
        nxt = ordered[k + 1].start_ms if k + 1 < len(ordered) else clip_end_ms
        gap = max(0, nxt - line.end_ms) if nxt is not None else 0
        take = takes.get(line.index)
        slot = line.duration_ms
        if take is None:
            rows.append(
                FitRow(line.index, line.speaker, line.text, slot, 0.0, 0.0, 0.0, gap, "missing")
            )
            continue
        over = max(0.0, take.duration_ms - slot)
        rows.append(
            FitRow(
                index=line.index,
                speaker=line.speaker,
                text=line.text,
                slot_ms=slot,
                take_ms=round(take.duration_ms, 1),
                overflow_ms=round(over, 1),
                ratio=round(take.duration_ms / slot, 3),
                gap_after_ms=gap,
                status="over" if over > 0 else "fits",
            )
        )
    return FitReport(tuple(rows), round(sum(r.overflow_ms for r in rows), 1))


def format_fit_table(report: FitReport, text_width: int = 36) -> str:
    """The report as an aligned text table with a total line.

    Args:
        report: A fit report.
        text_width: Characters of each line's text shown.

    Returns:
        The table (no trailing newline).
    """
    head = (
        f"{'line':>4}  {'slot s':>7}  {'take s':>7}  {'over s':>7}  {'ratio':>6}  {'gap s':>6}  "
    )
    out = [head + "status   text"]
    for r in report.rows:
        text = (f"{r.speaker}: " if r.speaker else "") + r.text
        if len(text) > text_width:
            text = text[: text_width - 1] + "…"
        out.append(
            f"{r.index:>4}  {r.slot_ms / 1000:>7.2f}  {r.take_ms / 1000:>7.2f}  "
            f"{r.overflow_ms / 1000:>7.2f}  {r.ratio:>6.2f}  {r.gap_after_ms / 1000:>6.2f}  "
            f"{r.status:<7}  {text}"
        )
    out.append(
        f"{len(report.over)} of {len(report.rows)} lines overflow, "
        f"total {report.total_overflow_ms / 1000:.2f} s"
    )
    return "\n".join(out)
