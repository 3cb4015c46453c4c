"""Columns for reads written as one UNION ALL of several tables (``day_store``, ``schedule_store``):
a row per fact, its kind first, and the columns of the other kinds' facts NULL of their type."""
from __future__ import annotations

from sqlalchemy import cast, literal_column, null


def kind(k: str):
    """The row's kind as its first column, a one-letter literal (``'p'`` a punch, ...)."""
    return literal_column(f"'{k}'").label("kind")


def none(type_):
    """A NULL of ``type_``: a UNION's parts must agree on each column's type, and an untyped NULL
    in the first part would not say it."""
    return cast(null(), type_)
