"""Transport: play/pause, J/K/L shuttle, frame steps, in/out points and segment looping.

The clock is a ``QElapsedTimer`` read by a ``QTimer``: the frame shown is the one due at the
elapsed time, so a slow decode drops frames instead of slowing the picture down, and the position
always lands on whole frames (the viewer then decodes that exact frame). Audio, when the machine
has an output device, plays through ``QMediaPlayer`` from a pre-mixed WAV and is restarted at the
playhead on every seek; the picture never waits for it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, QUrl, Signal

#: Shuttle speeds reached by pressing L (or J) repeatedly.
SHUTTLE_RATES = (1.0, 2.0, 4.0, 8.0)


class QtPlayback(QObject):
    """Frame-exact playback position with J/K/L shuttle and loop.

    Signals:
        position_changed(int frame): the playhead moved.
        playing_changed(bool): playback started or stopped.
    """

    position_changed = Signal(int)
    playing_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.frame_count = 0
        self.fps = 25.0
        self.position = 0
        self.rate = 0.0
        self.loop_range: tuple[int, int] | None = None
        self.in_point: int | None = None
        self.out_point: int | None = None
        self._clock = QElapsedTimer()
        self._start_frame = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._audio_player = None
        self._audio_output = None
        self._audio_path: Path | None = None

    # ------------------------------------------------------------------ setup
    def set_clip(self, frame_count: int, fps: float) -> None:
        """Set the clip; stops playback and rewinds."""
        self.pause()
        self.frame_count = int(frame_count)
        self.fps = float(fps) or 25.0
        self.in_point = self.out_point = None
        self.seek(0)

    def set_audio(self, path: Path | None) -> None:
        """Play ``path`` (a WAV on the clip clock) with the picture, if an audio device exists."""
        self._audio_path = path
        player = self._ensure_audio()
        if player is not None:
            player.setSource(QUrl.fromLocalFile(str(path)) if path else QUrl())

    def _ensure_audio(self):
        if self._audio_player is not None:
            return self._audio_player
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer
        except ImportError:
            return None
        if not QMediaDevices.audioOutputs():
            return None  # offscreen / headless: no device, the picture plays alone
        self._audio_output = QAudioOutput(self)
        self._audio_player = QMediaPlayer(self)
        self._audio_player.setAudioOutput(self._audio_output)
        return self._audio_player

    @property
    def has_audio_device(self) -> bool:
        """Whether audio is heard (False on headless machines)."""
        return self._ensure_audio() is not None

    # ------------------------------------------------------------------ transport
    @property
    def is_playing(self) -> bool:
        """Whether the playhead is moving."""
        return self.rate != 0.0

    def play(self, rate: float = 1.0) -> None:
        """Play at ``rate`` (negative = backwards) from the current position."""
        if self.frame_count <= 0:
            return
        if rate > 0 and self.position >= self._end() - 1:
            self.seek(self._start())
        was_playing = self.is_playing
        self.rate = rate
        self._start_frame = self.position
        self._clock.start()
        self._timer.start(max(5, int(500 / (self.fps * abs(rate)))))
        self._sync_audio()
        if not was_playing:
            self.playing_changed.emit(True)

    def pause(self) -> None:
        """Stop at the current frame."""
        if not self.is_playing:
            return
        self.rate = 0.0
        self._timer.stop()
        if self._audio_player is not None:
            self._audio_player.pause()
        self.playing_changed.emit(False)

    def toggle(self) -> None:
        """Space bar: play forward at normal speed, or pause."""
        if self.is_playing:
            self.pause()
        else:
            self.play(1.0)

    def shuttle(self, key: str) -> None:
        """J/K/L: J plays backwards (faster on each press), K pauses, L plays forwards."""
        if key == "k":
            self.pause()
            return
        sign = 1.0 if key == "l" else -1.0
        if self.rate * sign > 0:
            faster = [r for r in SHUTTLE_RATES if r > abs(self.rate)]
            self.play(sign * (faster[0] if faster else SHUTTLE_RATES[-1]))
        else:
            self.play(sign * SHUTTLE_RATES[0])

    def step(self, frames: int) -> None:
        """Pause and move by ``frames``."""
        self.pause()
        self.seek(self.position + frames)

    def seek(self, frame: int) -> None:
        """Move the playhead to ``frame`` (clamped to the clip)."""
        frame = int(min(max(frame, 0), max(0, self.frame_count - 1)))
        if self.is_playing:
            self._start_frame = frame
            self._clock.restart()
            self._sync_audio(frame)
        if frame != self.position:
            self.position = frame
            self.position_changed.emit(frame)

    def set_in(self) -> None:
        """I: mark the in point at the playhead."""
        self.in_point = self.position
        if self.out_point is not None and self.out_point <= self.in_point:
            self.out_point = None

    def set_out(self) -> None:
        """O: mark the out point after the playhead frame (exclusive end)."""
        self.out_point = self.position + 1
        if self.in_point is not None and self.in_point >= self.out_point:
            self.in_point = None

    def set_loop(self, loop: tuple[int, int] | None) -> None:
        """Loop playback over ``[start, end)`` frames, or play through with None."""
        self.loop_range = loop

    # ------------------------------------------------------------------ internals
    def _start(self) -> int:
        return self.loop_range[0] if self.loop_range else 0

    def _end(self) -> int:
        return self.loop_range[1] if self.loop_range else self.frame_count

    def _sync_audio(self, frame: int | None = None) -> None:
        player = self._audio_player
        if player is None or self._audio_path is None:
            return
        frame = self.position if frame is None else frame
        if self.rate == 1.0:
            with contextlib.suppress(RuntimeError):
                player.setPosition(int(1000 * frame / self.fps))
                player.play()
        else:
            player.pause()

    def _on_timer_timeout(self) -> None:
        elapsed_sec = self._clock.elapsed() / 1000.0
        frame = self._start_frame + int(elapsed_sec * self.fps * self.rate)
        start, end = self._start(), self._end()
        if self.rate > 0 and frame >= end:
            if self.loop_range is not None:
                self._start_frame = start
                self._clock.restart()
                self._sync_audio(start)
                frame = start
            else:
                frame = end - 1
                self.pause()
        elif self.rate < 0 and frame < start:
            if self.loop_range is not None:
                self._start_frame = end - 1
                self._clock.restart()
                frame = end - 1
            else:
                frame = start
                self.pause()
        if frame != self.position:
            self.position = frame
            self.position_changed.emit(frame)
