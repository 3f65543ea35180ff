"""Scripts for dubbing and lecture translation: subtitle lines, per-line audio, fit and timing.

:mod:`~.subtitles` reads SRT/WebVTT into :class:`~.subtitles.ScriptLine` objects,
:mod:`~.lines` finds each line's audio (a folder of takes or one long dub), :mod:`~.fit` checks
each take against its slot, :mod:`~.strategies` decides per line how an overflow is absorbed,
and :mod:`~.conform` builds the final audio and picture that the lips are re-synced to.
"""
