"""Query parameters as WordPress's REST server reads and validates them.

Every invalid parameter is collected first and reported together, in WordPress's `rest_invalid_param` shape, with
WordPress's own messages, so a client's error handling can be tested against the words it will meet.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

# rest_parse_date(): a literal `+02:00` arrives as ` 02:00` and fails here, as on WordPress.
DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$", re.IGNORECASE
)
INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")


class RestError(Exception):
    """A WordPress `WP_Error` answered as JSON: `{"code", "message", "data": {"status", ...}}`."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.body = {"code": code, "message": message, "data": {"status": status, **data}}


@dataclass(frozen=True)
class DateBound:
    """A date filter's value; `utc` says whether it carried a zone, so it compares with the `*_gmt` fields."""

    seconds: int
    utc: bool


@dataclass
class Query:
    """The decoded query string, in order. PHP's `$_GET` keeps the last value of a repeated name."""

    pairs: list[tuple[str, str]]
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, query_string: str) -> Query:
        return cls(parse_qsl(query_string, keep_blank_values=True))

    def get(self, name: str) -> str | None:
        values = [value for key, value in self.pairs if key == name]
        return values[-1] if values else None

    def has(self, name: str) -> bool:
        return any(key in (name, f"{name}[]") for key, _ in self.pairs)

    def values(self, name: str) -> list[str]:
        """A list parameter, given as `name=1,2` or as `name[]=1&name[]=2`."""
        found: list[str] = []
        for key, value in self.pairs:
            if key == f"{name}[]":
                found.append(value)
            elif key == name:
                found = [part for part in re.split(r"[\s,]+", value) if part]
        return found

    def invalid(self, name: str, code: str, message: str) -> None:
        self.errors.setdefault(name, (code, message))

    def integer(self, name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
        raw = self.get(name)
        if raw is None:
            return default
        if not INTEGER.match(raw):
            self.invalid(name, "rest_invalid_type", f"{name} is not of type integer.")
            return default
        value = int(raw)
        if maximum is not None and not minimum <= value <= maximum:
            self.invalid(
                name, "rest_out_of_bounds", f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)"
            )
        elif value < minimum:
            self.invalid(name, "rest_out_of_bounds", f"{name} must be greater than or equal to {minimum}")
        return value

    def integers(self, name: str) -> list[int] | None:
        if not self.has(name):
            return None
        numbers: list[int] = []
        for index, raw in enumerate(self.values(name)):
            if INTEGER.match(raw):
                numbers.append(int(raw))
            else:
                self.invalid(name, "rest_invalid_type", f"{name}[{index}] is not of type integer.")
        return numbers

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get(name)
        if value is None:
            return default
        if value not in choices:
            self.invalid(name, "rest_not_in_enum", f"{name} is not one of {', '.join(choices)}.")
            return default
        return value

    def date(self, name: str) -> DateBound | None:
        raw = self.get(name)
        if raw is None:
            return None
        match = DATE.match(raw)
        if not match:
            self.invalid(name, "rest_invalid_date", "Invalid date.")
            return None
        *parts, zone = match.groups()
        moment = calendar.timegm((*map(int, parts), 0, 0, 0))
        if zone is None:
            return DateBound(moment, utc=False)
        return DateBound(moment - zone_offset(zone), utc=True)

    def raise_if_invalid(self) -> None:
        if not self.errors:
            return
        names = list(self.errors)
        raise RestError(
            400,
            "rest_invalid_param",
            f"Invalid parameter(s): {', '.join(names)}",
            params={name: message for name, (_, message) in self.errors.items()},
            details={name: {"code": code, "message": message, "data": None} for name, (code, message) in self.errors.items()},
        )


def zone_offset(zone: str) -> int:
    """`Z`, `+02`, `-0430` or `+02:00` in seconds east of UTC."""
    if zone.upper() == "Z":
        return 0
    digits = zone[1:].replace(":", "")
    offset = int(digits[:2]) * 3600 + int(digits[2:] or 0) * 60
    return -offset if zone[0] == "-" else offset
