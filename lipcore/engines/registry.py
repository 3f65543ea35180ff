"""Build engines by name (the names used on the command line and in project files).

"auto" (the default) picks per clip: wav2lip when a checkpoint is given, retime where the clip
shows the actor speaking long enough with open and closed mouths, the one-shot engine otherwise
(a still, a face crop without sound, a CGI or painted face, a face over music: retime's own
footage check counts loud frames as speech, so a clip whose sound is music without speech's pauses
(:func:`lipcore.audio.vad.sounds_like_music`) and whose mouth does not follow that sound (the
built-in sync meter) goes to the one-shot engine too). :func:`choose_engine` says which and
why; :class:`AutoEngine` applies it when the footage is known (in ``prepare``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from lipcore.engines.base import (
    CropBatch,
    Engine,
    EngineOptions,
    SegmentDrive,
    SourceFootage,
    resize_crops,
)
from lipcore.errors import FootageError, LipsyncError
from lipcore.progress import Progress

#: Engine names the registry knows.
ENGINE_NAMES = ("auto", "retime", "oneshot", "wav2lip")
#: Sync-meter confidence of the footage's mouth against its own sound above which the mouth is
#: taken to follow that sound even when it sounds like music (singing, speech over a score).
OWN_SYNC_MIN_CONFIDENCE = 0.1


def own_sound_agreement(sources: Sequence[SourceFootage]) -> float:
    """Sync-meter confidence of the footage's measured mouth against its own sound.

    Args:
        sources: Footage with landmarks and audio (the first one with audio is measured).

    Returns:
        The built-in meter's confidence (0 when no source has audio).
    """
    from lipcore.face.landmarks import lip_gap
    from lipcore.sync.meter import score_av

    for src in sources:
        audio = np.asarray(src.audio_16k if src.audio_16k is not None else [], np.float32)
        frames = np.asarray(src.frames, np.int64)
        if audio.size == 0 or not np.any(audio) or len(frames) < 10:
            continue
        n = int(frames.max()) + 1
        gap = np.full(n, np.nan, np.float32)
        gap[frames] = lip_gap(np.asarray(src.landmarks, np.float32))
        return float(score_av(gap, audio, src.fps).confidence)
    return 0.0


def _music_reason(sources: Sequence[SourceFootage]) -> str | None:
    """Why the footage's sound cannot teach retime (music the mouth does not follow), or None."""
    from lipcore.audio.vad import pause_ratio, sounds_like_music
    from lipcore.media.sample_file import has_sound

    audio = [s.audio_16k for s in sources if has_sound(s.audio_16k)]
    if not audio or not sounds_like_music(audio[0]):
        return None
    agreement = own_sound_agreement(sources)
    if agreement >= OWN_SYNC_MIN_CONFIDENCE:
        return None  # music, but the mouth follows it (singing) or speech over it
    ratio = pause_ratio(np.asarray(audio[0], np.float32))
    return (
        f"the clip's sound is music, not speech (pauses in {ratio:.0%} of it, speech has about "
        f"20% or more) and the mouth does not follow it (sync confidence {agreement:.2f})"
    )


def choose_engine(
    footage: SourceFootage | Sequence[SourceFootage], checkpoint: str | os.PathLike | None = None
) -> tuple[str, str]:
    """The engine "auto" uses for this footage, and the reason, in words.

    Args:
        footage: The clip's own face footage (and extra footage of the same actor).
        checkpoint: Weights for the neural engine, if the user gave any.

    Returns:
        ``(engine name, reason)``.
    """
    if checkpoint is not None:
        return "wav2lip", f"a checkpoint was given ({os.fspath(checkpoint)})"
    sources = [footage] if isinstance(footage, SourceFootage) else list(footage)
    if all(len(s.frames) <= 1 for s in sources):  # a portrait, a painting: said as such
        return (
            "oneshot",
            "a still image: one picture of the face, no footage or audio of it speaking",
        )
    try:
        from lipcore.engines.retime import RetimeEngine, join_footage_parts
    except ImportError:
        return "oneshot", "the retime engine is not installed"
    probe = RetimeEngine()
    parts = [probe._footage_part(s, 0) for s in sources]
    cat = join_footage_parts(parts)
    try:
        probe._check_footage(cat, sources[0].fps)
    except FootageError as exc:
        return "oneshot", f"not enough speaking footage for retime: {exc.message}"
    music = _music_reason(sources)
    if music is not None:
        return "oneshot", f"no speaking footage for retime: {music}"
    speech_sec = float(cat["speech"].sum() / float(sources[0].fps))
    return "retime", f"{speech_sec:.1f} s of the face speaking with its own sound"


def scale_footage(source: SourceFootage, size: int) -> SourceFootage:
    """``source`` with its crops resized to ``size`` pixels and its landmarks moved with them."""
    import dataclasses

    k = size / source.crops.shape[1]
    landmarks = ((source.landmarks + 0.5) * k - 0.5).astype(np.float32)
    crops = resize_crops(source.crops, size)
    return dataclasses.replace(source, crops=crops, landmarks=landmarks)


class AutoEngine(Engine):
    """Chooses retime or one-shot in :meth:`prepare` (see :func:`choose_engine`), then delegates.

    Attributes:
        choice: ``(engine name, reason)`` once prepared, else None.
    """

    name = "auto"
    any_crop_size = True

    def __init__(
        self, options: EngineOptions | None = None, footage_paths: Sequence = (), actor=None
    ):
        super().__init__(options)
        self.footage_paths = tuple(footage_paths)
        self.actor = actor
        # The pipeline sets the face's native crop size (any_crop_size); an inner engine that
        # works at a fixed size gets the footage scaled to it and sets this back.
        self.crop_size = 256
        self.inner: Engine | None = None
        self.choice: tuple[str, str] | None = None

    def prepare(self, source: SourceFootage | Sequence[SourceFootage]) -> Iterator[Progress]:
        """Choose the engine for this footage and prepare it."""
        name, reason = choose_engine(source)
        self.inner = create_engine(
            name, self.options, footage_paths=self.footage_paths, actor=self.actor
        )
        size = self.crop_size
        try:
            yield from self.inner.prepare(self._fit_inner(source, size))
        except FootageError as exc:  # retime's deeper checks: fall back rather than refuse
            if name != "retime":
                raise
            name, reason = "oneshot", f"retime could not use the footage: {exc.message}"
            self.inner = create_engine(name, self.options, actor=self.actor)
            yield from self.inner.prepare(self._fit_inner(source, size))
        self.choice = (name, reason)

    def _fit_inner(self, source, size: int):
        """The footage at the crop size the chosen engine works at (``size`` = as it was cut).

        An engine that works at any size is given the pipeline's (native) size; a fixed-size
        one gets the crops and landmarks scaled to its own, and this engine's ``crop_size``
        follows it, so the pipeline cuts the segment's crops at that size too.
        """
        assert self.inner is not None
        if getattr(self.inner, "any_crop_size", False):
            self.inner.crop_size = size
            self.crop_size = size
            return source
        self.crop_size = own = int(self.inner.crop_size)
        if own == size:
            return source
        if isinstance(source, SourceFootage):
            return scale_footage(source, own)
        return [scale_footage(s, own) for s in source]

    def use_options(self, options: EngineOptions) -> None:
        """Switch to a segment's options, in the chosen engine too."""
        self.options = options
        if self.inner is not None:
            self.inner.use_options(options)

    def prepare_key(self) -> tuple:
        """Only the neutral frame shapes preparation (the one-shot engine's resting mouth).

        Retime's library ignores every option and the one-shot engine's ``prepare`` reads only
        the neutral frame, so segments that differ in strength or reference share one engine.
        """
        return ("auto", self.options.neutral_frame)

    def save_state(self, folder: Path) -> bool:
        """Store the choice and the chosen engine's state (False when that engine keeps none)."""
        import json

        if self.inner is None or self.choice is None:
            return False
        if not self.inner.save_state(folder / "inner"):
            return False
        (folder / "auto.json").write_text(json.dumps(list(self.choice)))  # last: complete
        return True

    def load_state(self, folder: Path) -> bool:
        """Restore a choice and the chosen engine stored by :meth:`save_state`."""
        import json

        try:
            name, reason = json.loads((folder / "auto.json").read_text())
        except (OSError, ValueError):
            return False
        if name not in ENGINE_NAMES or name in ("auto", "wav2lip"):
            return False
        inner = create_engine(name, self.options, footage_paths=self.footage_paths)
        if getattr(inner, "any_crop_size", False):
            inner.crop_size = self.crop_size
        if not inner.load_state(folder / "inner"):
            return False
        self.inner, self.choice = inner, (str(name), str(reason))
        self.crop_size = int(inner.crop_size)
        return True

    def begin_segment(self, drive: SegmentDrive) -> None:
        """Pass the segment to the chosen engine."""
        if self.inner is None:
            raise RuntimeError("AutoEngine.prepare() must run before begin_segment()")
        self.inner.begin_segment(drive)

    @property
    def reads_crop_pixels(self) -> bool:  # type: ignore[override]
        """Whether the chosen engine reads the target crops' pixels (True before it is chosen)."""
        return bool(getattr(self.inner, "reads_crop_pixels", True))

    def generate(self, batch: CropBatch) -> np.ndarray:
        """Frames from the chosen engine."""
        if self.inner is None:
            raise RuntimeError("AutoEngine.prepare() must run before generate()")
        return self.inner.generate(batch)


def engine_choice(engine: Engine) -> tuple[str, str]:
    """``(engine name, reason)`` of a prepared engine: what "auto" chose, or the named engine."""
    choice = getattr(engine, "choice", None)
    if choice is not None:
        return choice
    return engine.name, "chosen by name"


def create_engine(
    name: str,
    options: EngineOptions | None = None,
    checkpoint: str | os.PathLike | None = None,
    device: str | None = None,
    footage_paths: Sequence[str | os.PathLike] = (),
    actor: str | os.PathLike | None = None,
) -> Engine:
    """Build the engine called ``name``.

    Args:
        name: "auto" (choose per clip), "wav2lip" (neural, needs ``checkpoint``), "retime"
            (footage-based) or "oneshot" (any face from one frame).
        options: Engine options.
        checkpoint: Weights for neural engines (ignored by the others; makes "auto" wav2lip).
        device: Device override for neural engines ("auto", "cpu", "cuda", "mps").
        footage_paths: Extra footage for engines that learn from footage.
        actor: An actor file (:mod:`lipcore.actor`): the one-shot engine uses its mouth-shape
            model (the pipeline adds its footage to the request's).

    Returns:
        A new engine; call ``prepare`` before generating.

    Raises:
        LipsyncError: Unknown name, or the engine's module is missing from this installation.
        CheckpointError: A neural engine without usable weights.
    """
    options = options or EngineOptions()
    if name == "auto":
        if checkpoint is not None:
            engine = create_engine("wav2lip", options, checkpoint=checkpoint, device=device)
            engine.choice = choose_engine([], checkpoint)  # type: ignore[attr-defined]
            return engine
        return AutoEngine(options, footage_paths=tuple(footage_paths), actor=actor)
    if name == "wav2lip":
        from lipcore.engines.wav2lip import Wav2LipEngine

        return Wav2LipEngine(options, checkpoint=checkpoint, device=device)
    if name == "oneshot":
        from lipcore.engines.oneshot import OneShotEngine

        if actor is None:
            return OneShotEngine(options)
        from lipcore.actor import read_actor

        return OneShotEngine(options, model=read_actor(actor).shape_model())
    if name == "retime":
        try:
            from lipcore.engines.retime import RetimeEngine
        except ImportError as exc:
            raise LipsyncError(
                f"the retime engine is not available in this installation ({exc})",
                fix="use --engine wav2lip with a checkpoint, or reinstall lipsync",
            ) from exc
        return RetimeEngine(options, footage_paths=tuple(footage_paths))
    raise LipsyncError(f"unknown engine {name!r}", fix=f"use one of: {', '.join(ENGINE_NAMES)}")
