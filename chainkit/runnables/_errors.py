"""Exceptions keep their type; a note names where in the chain they happened.

``KeyError`` raised by step 2 of a chain stays a ``KeyError`` and gains one note such as
``chain path: qa › step 2/3 › ChatOpenAI``. Enclosing composites rewrite that same note as the
exception travels outwards, so nested chains read outermost-first without stacking notes.
"""

from __future__ import annotations

import contextlib

_PREFIX = "chain path: "
_ATTR = "_chainkit_path"


def annotate(exc: BaseException, owner_id: int, owner: str, where: str, inner: str) -> None:
    """Prefix ``owner › where`` to the path recorded on ``exc`` (``inner`` names the failing step).

    ``owner_id`` identifies the composite (``id(self)``), ``owner`` is its name, ``where`` e.g.
    ``step 2/3`` and ``inner`` the failing step's name; a step that already recorded a path (a
    nested composite) keeps its own segments.
    """
    seen = getattr(exc, "_chainkit_seen", None)
    if seen is None:
        seen = set()
        try:
            exc._chainkit_seen = seen  # type: ignore[attr-defined]
        except AttributeError:  # exceptions with __slots__: leave them unannotated
            return
    key = owner_id
    if key in seen:  # this composite already annotated it (an error passing through stream steps)
        return
    seen.add(key)
    path: list[str] = getattr(exc, _ATTR, None) or [inner]
    path = [owner, where, *path]
    setattr(exc, _ATTR, path)
    note = _PREFIX + " › ".join(path)
    notes: list[str] = list(getattr(exc, "__notes__", ()))
    notes = [n for n in notes if not (isinstance(n, str) and n.startswith(_PREFIX))]
    notes.append(note)
    exc.__notes__ = notes  # type: ignore[attr-defined]


def chain_path(exc: BaseException) -> str | None:
    """The chain path recorded on ``exc``, e.g. ``'RunnableSequence › step 2/3 › boom'``."""
    path = getattr(exc, _ATTR, None)
    return " › ".join(path) if path else None


def add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)``, also on Python 3.10 (which lacks it)."""
    # AttributeError: an exception with __slots__ cannot take notes; leave it as it is.
    with contextlib.suppress(AttributeError):
        exc.__notes__ = [*getattr(exc, "__notes__", ()), note]  # type: ignore[attr-defined]
