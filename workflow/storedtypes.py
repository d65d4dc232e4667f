"""The types of the columns SQLite would let hold anything, checked as a row is read: the JSON
columns (a list of texts, an object of texts, the criteria of a decided standing) and the yes/no
columns (`Flag`).

The product only ever writes these shapes, and the database keeps JSON as JSON; but a workspace
changed with another tool can hold anything there (a number, an object where a list belongs, a
list holding a number, on SQLite text that is not JSON at all). Every command reads these columns
through these types, ORM and Core alike, so such a value is refused where it is read, naming the
table and the column, instead of failing later in whatever code uses it. The DDL is JSON's: the
schema is the same as with plain `JSON`.

Light on purpose: `workflow.listing` reads `proposals.values` without loading the models.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Date, Dialect, Enum, FromClause, String, TypeDecorator, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from workflow.vocabulary import OgpValue

_SHOWN = 80  # characters of a refused value shown: enough to recognise it, never a screenful


class StoredShapeError(ValueError):
    """A JSON column holds what no step writes (`where`: "table.column"; `problem`: what it holds
    instead, the value abridged). Raised while a row is read, so the command line reports it as
    `errors.StoredValueError`, with "{where} {problem}" as the detail."""

    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where} {problem}")


class _Shaped(TypeDecorator[Any]):
    """JSON whose value, as read, must have one shape (`holds`); `where` ("table.column") names
    the column in the refusal. Values written are not checked: the product writes only these
    shapes, from inputs checked at entry."""

    impl = JSON
    # As JSON's: a list or an object is not hashable, and None is written as JSON's null.
    hashable = False
    should_evaluate_none = True
    shape: ClassVar[str]
    value_type: ClassVar[type[Any]]  # what a value read from the column is (`holds` checks it)

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    @staticmethod
    def holds(value: Any) -> bool:  # pragma: no cover - each shape says
        raise NotImplementedError

    @property
    def python_type(self) -> type[Any]:
        """`value_type`: said here, as SQLAlchemy's TypeDecorator before 2.1 does not ask its
        implementation (code that asks a column's Python type, as bench/tamper.py does, would fail)."""
        return self.value_type

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any]:
        """JSON's own decoding (SQLite's driver gives text; PostgreSQL's gives the value), then
        the shape's check; `StoredShapeError` for text that is not JSON or a value of another
        shape. Overridden rather than `process_result_value` so text that is not JSON is named too."""
        decode = self.impl_instance.result_processor(dialect, coltype)
        where, shape, holds = self.where, self.shape, self.holds

        def process(value: Any) -> Any:
            if decode is not None:
                try:
                    value = decode(value)
                except (ValueError, TypeError):  # text that is not JSON, bytes that are not UTF-8
                    raise StoredShapeError(where, f"holds {_abridged(repr(value))}, which is not JSON") from None
            if not holds(value):
                raise StoredShapeError(where, f"holds {_abridged(json.dumps(value, ensure_ascii=False))}, not {shape}")
            return value

        return process


def _abridged(text: str) -> str:
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 1]}…"


class TextList(_Shaped):
    """A JSON list of texts (`proposals.values`, `plans.copy_to`, a meeting's topics …)."""

    cache_ok = True  # read from each class itself: `where`, a text, is the whole of its cache key
    shape = "a list of texts"
    value_type = list

    @staticmethod
    def holds(value: Any) -> bool:
        """Whether `value` is a list whose items are all text."""
        return type(value) is list and all(type(item) is str for item in value)


# The OGP values' codes (`vocabulary.OgpValue`): what `proposals.values` lists and the keys of
# `commitments.relevance`; code that reads them turns each into an OgpValue.
_OGP_CODES = frozenset(value.value for value in OgpValue)


class ValueCodes(TextList):
    """A JSON list of OGP value codes (`proposals.values`): a text that is no OGP value's code
    would fail wherever the value is named (a published page, a report)."""

    cache_ok = True
    shape = "a list of OGP value codes"

    @staticmethod
    def holds(value: Any) -> bool:
        """Whether `value` is a list of texts, each an OGP value's code."""
        return type(value) is list and all(type(item) is str and item in _OGP_CODES for item in value)


class TextObject(_Shaped):
    """A JSON object of texts (`commitments.relevance`: OGP value code → how it is relevant)."""

    cache_ok = True  # read from each class itself: `where`, a text, is the whole of its cache key
    shape = "an object of texts"
    value_type = dict

    @staticmethod
    def holds(value: Any) -> bool:
        """Whether `value` is an object whose values are all text (JSON's keys always are)."""
        return type(value) is dict and all(type(item) is str for item in value.values())


class ValueTexts(TextObject):
    """A JSON object of texts keyed by OGP value codes (`commitments.relevance`: how the commitment
    is relevant to each value)."""

    cache_ok = True
    shape = "an object of texts keyed by OGP value codes"

    @staticmethod
    def holds(value: Any) -> bool:
        """Whether `value` is an object of texts whose keys are OGP values' codes."""
        return type(value) is dict and all(key in _OGP_CODES and type(item) is str for key, item in value.items())


class CriterionMeans(_Shaped):
    """The criteria of a decided standing (`decided_standings.criteria`): criterion code →
    {"mean": exact fraction as text ("17/4"), or null where nobody scored; "scorers": whole number;
    "weight": whole number}, as `evaluation.record_decided_standing` writes them."""

    cache_ok = True  # read from each class itself: `where`, a text, is the whole of its cache key
    shape = "an object of criteria, each with a mean, scorers and a weight"
    value_type = dict

    @staticmethod
    def holds(value: Any) -> bool:
        """Whether `value` is an object of criteria in the shape above."""
        return type(value) is dict and all(_criterion_mean(c) for c in value.values())


def _criterion_mean(value: Any) -> bool:
    return (
        type(value) is dict
        and "mean" in value
        and (value["mean"] is None or _is_fraction(value["mean"]))
        and type(value.get("scorers")) is int
        and type(value.get("weight")) is int
    )


def _is_fraction(value: Any) -> bool:
    """Whether `value` is an exact fraction as text ("17/4"), as a decided standing keeps a mean."""
    if type(value) is not str:
        return False
    from fractions import Fraction  # here: `proposal list` loads this module, and needs none

    try:
        Fraction(value)
    except (ValueError, ZeroDivisionError):
        return False
    return True


class _AsStored(TypeDecorator[Any]):
    """JSON read to be compared, not used: decoded where it is JSON, else the text (or bytes) as
    stored, so that a value which is not JSON is a value that differs, not one that cannot be read."""

    impl = JSON
    cache_ok = True
    hashable = False

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        """JSON's own decoding, giving back the stored value where it fails."""
        decode = self.impl_instance.result_processor(dialect, coltype)
        if decode is None:  # PostgreSQL: its driver decodes, and the server keeps only JSON
            return None

        def process(value: Any) -> Any:
            try:
                return decode(value)
            except (ValueError, TypeError):
                return value

        return process


_AS_STORED = _AsStored()


def _stored_flag(value: Any) -> Any:
    """A yes/no column's value as SQLite gives it: 0 and 1 are false and true (PostgreSQL's
    driver gives booleans already); anything else is given back as stored."""
    if type(value) is int and value in (0, 1):
        return value == 1
    return value


class Flag(TypeDecorator[bool]):
    """A yes/no column (`responses.agreed`, `members.active` …): BOOLEAN, as SQLAlchemy's own.
    SQLite keeps whatever it is given there, and SQLAlchemy reads it as Python's `bool(value)`:
    'no' would read as true. Read through this type, a value other than 0 or 1 (true or false on
    PostgreSQL) is refused as `StoredShapeError`, naming the column (`where`, "table.column")."""

    impl = Boolean
    cache_ok = True  # read from each class itself: `where`, a text, is the whole of its cache key
    # `Member.active.is_(True)` written `IS true`, as with Boolean: a TypeDecorator would bind the
    # value (`IS $1`), which PostgreSQL refuses.
    coerce_to_is_types = (type(None), bool)

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    @property
    def python_type(self) -> type[Any]:
        """bool (said here: before 2.1, a TypeDecorator does not ask its implementation)."""
        return bool

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any]:
        """0 and 1 as false and true, booleans and None as they are; `StoredShapeError` otherwise."""
        where = self.where

        def process(value: Any) -> Any:
            read = _stored_flag(value)
            if read is None or type(read) is bool:
                return read
            raise StoredShapeError(where, f"holds {_abridged(repr(value))}, not true or false")

        return process


class _FlagAsStored(TypeDecorator[Any]):
    """A yes/no column read to be compared, not used: 0 and 1 as false and true, anything else
    as stored, so that a value no step writes is a value that differs."""

    impl = Boolean
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any]:
        """`_stored_flag`."""
        return _stored_flag


_FLAG_AS_STORED = _FlagAsStored()


class _AsGiven(TypeDecorator[Any]):
    """A date or a state read to be compared, not used: as the database's driver gives it (a date
    from PostgreSQL's; the ISO text or whatever else SQLite keeps from SQLite's), so that a value
    that is no date or no state is a value that differs, not one that cannot be read."""

    impl = String
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> None:
        """None: nothing done to the driver's value."""
        return None


_AS_GIVEN = _AsGiven()


def unchecked(table: FromClause) -> list[ColumnElement[Any]]:
    """`table`'s columns to select, each under its own name, its checked columns read as stored
    (JSON decoded where it is JSON, its shape not checked; a yes/no value other than 0 or 1 as it
    is; dates and states as the driver gives them): for `ogp audit verify`, which compares every
    value with the chain and names the row and the field that differ itself."""
    selected: list[ColumnElement[Any]] = []
    for column in table.columns:
        if isinstance(column.type, _Shaped):
            selected.append(type_coerce(column, _AS_STORED).label(column.name))
        elif isinstance(column.type, Flag):
            selected.append(type_coerce(column, _FLAG_AS_STORED).label(column.name))
        elif type(column.type) in (Date, Enum):  # written as ISO text and as its value: compared so
            selected.append(type_coerce(column, _AS_GIVEN).label(column.name))
        else:
            selected.append(column)
    return selected
