"""The case search: parsed and checked from a query string here, and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tracker.fulltext import words_in
from tracker.models import RISK_FLAGS, SCRUTINY_GRADES, RiskLevel
from tracker.params import date_param, id_param, search_text

# Every flag a review can carry, as (CaseReview column, label): the risk flags and the repeat flag.
FLAG_CHOICES = [*RISK_FLAGS, ("is_repeat", "Repeat (reviewed within 12 months)")]
GRADE_CHOICES = [(str(grade), f"{grade}: {label}") for grade, label in SCRUTINY_GRADES.items()]
RISK_CHOICES = [(level.value, level.label) for level in RiskLevel]


@dataclass(frozen=True)
class Problem:
    key: str
    message: str


@dataclass(frozen=True)
class CaseSearch:
    reference: str = ""
    words: str = ""
    reviewed_from: date | None = None
    reviewed_to: date | None = None
    theme_id: int | None = None
    grade: int | None = None
    risk: str = ""
    flags: tuple[str, ...] = field(default_factory=tuple)
    agency_id: int | None = None

    @property
    def word_list(self) -> list[str]:
        return words_in(self.words)

    @property
    def is_empty(self) -> bool:
        return self == CaseSearch()

    @classmethod
    def parse(cls, args) -> tuple[CaseSearch, list[Problem]]:
        """Read the search from a query string; what cannot be used is left out and reported."""
        problems: list[Problem] = []
        values: dict[str, Any] = {}

        def text(key: str, max_length: int = 200) -> str:
            # Unsafe characters (NUL, controls, direction overrides) dropped: see params.search_text.
            return search_text(args.get(key), max_length)

        values["reference"] = text("reference", 40)
        values["words"] = text("words")
        for name, label in (("reviewed_from", "Reviewed from"), ("reviewed_to", "Reviewed up to")):
            if raw := text(name):
                if (day := date_param(raw)) is None:
                    problems.append(Problem(name, f"{label} must be a real date between 1900 and 2100"))
                else:
                    values[name] = day
        if (
            values.get("reviewed_from")
            and values.get("reviewed_to")
            and values["reviewed_from"] > values["reviewed_to"]
        ):
            problems.append(Problem("reviewed_from", "The review date range is the wrong way round"))
            values["reviewed_from"] = values["reviewed_to"] = None
        for name, key, label in (("theme_id", "theme", "learning theme"), ("agency_id", "agency", "agency")):
            if raw := text(key):
                if (value := id_param(raw)) is None:
                    problems.append(Problem(key, f"Choose the {label} from the list"))
                else:
                    values[name] = value
        if raw := text("grade"):
            if raw in dict(GRADE_CHOICES):
                values["grade"] = int(raw)
            else:
                problems.append(Problem("grade", "Choose a scrutiny grade from 1 to 4"))
        if raw := text("risk"):
            if raw in dict(RISK_CHOICES):
                values["risk"] = raw
            else:
                problems.append(Problem("risk", "Choose a risk level from the list"))
        flags = [str(flag) for flag in args.getlist("flags")] if hasattr(args, "getlist") else []
        known = dict(FLAG_CHOICES)
        if any(flag not in known for flag in flags):
            problems.append(Problem("flags", "Choose risk factors from the list"))
        values["flags"] = tuple(flag for flag, _ in FLAG_CHOICES if flag in flags)
        return cls(**values), problems

    def as_args(self) -> dict:
        """The query string that reproduces this search (pagination links)."""
        args: dict[str, Any] = {
            "reference": self.reference,
            "words": self.words,
            "reviewed_from": self.reviewed_from.isoformat() if self.reviewed_from else "",
            "reviewed_to": self.reviewed_to.isoformat() if self.reviewed_to else "",
            "theme": self.theme_id or "",
            "grade": self.grade or "",
            "risk": self.risk,
            "agency": self.agency_id or "",
            "flags": list(self.flags),
        }
        return {key: value for key, value in args.items() if value not in ("", None, [])}

    def for_audit(self) -> str:
        """What was searched for, without the words typed (they may describe people)."""
        parts = [
            f"{key}={value}"
            for key, value in self.as_args().items()
            if key not in ("words", "reference") and value not in ("", None, [])
        ]
        if self.reference:
            parts.insert(0, f"reference contains {self.reference}")
        if self.words:
            parts.append(f"words={len(self.word_list)}")
        return " ".join(parts)[:400]
