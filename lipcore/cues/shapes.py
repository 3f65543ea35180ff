"""The mouth-shape sets animators draw, and which shape each English phone takes.

Shapes follow Rhubarb Lip Sync's documented set (the Hanna-Barbera mouths):

- ``A`` closed, slight pressure: /p b m/
- ``B`` slightly open, clenched teeth: most consonants (/k s t d n/...) and /iy/ as in *bee*
- ``C`` open: /eh/ as in *men*, /ae/ as in *bat*; the in-between from A or B to D
- ``D`` wide open: /aa/ as in *father*
- ``E`` slightly rounded: /ao/ as in *off*, /er/ as in *bird*; the in-between from C or D to F
- ``F`` puckered: /uw/ as in *you*, /ow/ as in *show*, /w/ as in *way*
- ``G`` (optional) upper teeth on the lower lip: /f v/
- ``H`` (optional) tongue raised behind the upper teeth: long /l/
- ``X`` (optional) idle, lips relaxed: pauses

A shape set without an optional shape uses its basic stand-in (G -> B, H -> C, X -> A).
Preston Blair's names are an export option: A=MBP, B=etc, C=E, D=AI, E=O, F=U (WQ where the
sound is /w/), G=FV, H=L, X=rest (Rhubarb's own Moho naming, plus WQ).

The phone table and the diphthong splits are this project's reading of those descriptions.
"""

from __future__ import annotations

SHAPES = ("A", "B", "C", "D", "E", "F", "G", "H", "X")
BASIC_SHAPES = frozenset("ABCDEF")
EXTENDED_SHAPES = frozenset("GHX")
#: What an extended shape becomes when the animator has not drawn it.
BASIC_STAND_IN = {"G": "B", "H": "C", "X": "A"}
#: One line per shape, for menus and tooltips.
SHAPE_MEANINGS = {
    "A": "closed (P B M)",
    "B": "teeth together (K S T, EE)",
    "C": "open (EH, AE)",
    "D": "wide open (AA)",
    "E": "slightly round (AO, ER)",
    "F": "puckered (OO, OW, W)",
    "G": "teeth on lip (F V)",
    "H": "tongue up (L)",
    "X": "rest",
}
BLAIR_NAMES = {
    "A": "MBP",
    "B": "etc",
    "C": "E",
    "D": "AI",
    "E": "O",
    "F": "U",
    "G": "FV",
    "H": "L",
    "X": "rest",
}
#: Blair's tenth mouth: a puckered shape that came from /w/ (or a written "qu").
BLAIR_WQ = "WQ"
NAME_SETS = ("rhubarb", "blair")

#: Each ARPAbet phone as (shape, share of the phone's time) parts; diphthongs move.
PHONE_SHAPES: dict[str, tuple[tuple[str, float], ...]] = {
    # closures and lip-teeth
    "P": (("A", 1.0),),
    "B": (("A", 1.0),),
    "M": (("A", 1.0),),
    "F": (("G", 1.0),),
    "V": (("G", 1.0),),
    # tongue consonants: teeth together
    **{p: (("B", 1.0),) for p in "T D K G N NG S Z SH ZH CH JH TH DH Y".split()},
    "L": (("H", 1.0),),
    "R": (("E", 1.0),),
    "W": (("F", 1.0),),
    # vowels
    "IY": (("B", 1.0),),
    "IH": (("C", 1.0),),
    "EH": (("C", 1.0),),
    "AE": (("C", 1.0),),
    "AH": (("C", 1.0),),
    "AA": (("D", 1.0),),
    "AO": (("E", 1.0),),
    "ER": (("E", 1.0),),
    "UH": (("E", 1.0),),
    "UW": (("F", 1.0),),
    "OW": (("E", 0.5), ("F", 0.5)),
    "AY": (("D", 0.6), ("B", 0.4)),
    "AW": (("D", 0.6), ("F", 0.4)),
    "EY": (("C", 0.6), ("B", 0.4)),
    "OY": (("E", 0.6), ("B", 0.4)),
}
VOWELS = frozenset("IY IH EH AE AH AA AO ER UH UW OW AY AW EY OY".split())
#: /h/ has no mouth of its own: it takes the shape of the vowel it breathes into.
ASPIRATE = "HH"
#: Recognised speech the model could not classify: an average open mouth.
UNKNOWN_SPEECH_SHAPE = "C"


def allowed_shapes(extended: str = "GHX") -> frozenset[str]:
    """The shapes an animator has drawn.

    Args:
        extended: Which optional shapes are drawn, any of "G", "H", "X" ("" for basic only).

    Returns:
        The six basic shapes plus the chosen extended ones.

    Raises:
        ValueError: ``extended`` names a shape that is not optional.
    """
    chosen = set(extended.upper())
    if not chosen <= EXTENDED_SHAPES:
        raise ValueError(f"extended shapes must be a subset of GHX, got {extended!r}")
    return frozenset(BASIC_SHAPES | chosen)


def to_shape_set(shape: str, allowed: frozenset[str]) -> str:
    """The shape to draw for ``shape`` when only ``allowed`` shapes exist."""
    return shape if shape in allowed else BASIC_STAND_IN[shape]


def shape_name(shape: str, names: str = "rhubarb", phone: str = "") -> str:
    """The name an export writes for a shape.

    Args:
        shape: A Rhubarb letter.
        names: "rhubarb" (letters) or "blair" (Preston Blair names).
        phone: The phone the cue came from; /w/ makes Blair's WQ instead of U.

    Returns:
        The shape's name in that naming.
    """
    if names == "rhubarb":
        return shape
    if names != "blair":
        raise ValueError(f"names must be one of {NAME_SETS}, got {names!r}")
    if shape == "F" and phone == "W":
        return BLAIR_WQ
    return BLAIR_NAMES[shape]


def shape_from_name(name: str) -> str:
    """The Rhubarb letter for a letter or a Preston Blair name (case-insensitive for names)."""
    if name in SHAPES:
        return name
    for letter, blair in BLAIR_NAMES.items():
        if name.lower() == blair.lower():
            return letter
    if name.upper() == BLAIR_WQ:
        return "F"
    raise ValueError(f"unknown mouth shape {name!r}: expected one of {SHAPES} or a Blair name")
