"""The compact spec language the synthetic generator's business domains are written in (nl2sql.synth.domains).

One line per table: `plural[/singular] [> parent, parent]: column:kind(args)~spoken name, ...`
The first column is the table's label (what names a row) when it is text. `> parent` adds a foreign
key `<parent singular>_id`. Kinds are those of values.py; choices are separated by '|'. Columns are
written in canonical snake_case; naming styles (camelCase, abbreviations, ...) are applied per
generated database, while questions always use the spoken name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nl2sql.synth.values import NUMERIC_KINDS, TEXT_KINDS


@dataclass(frozen=True)
class ColSpec:
    name: str
    kind: str
    args: tuple = ()
    spoken: str = ""

    @property
    def role(self) -> str:
        if self.kind in ("choice",):
            return "cat"
        if self.kind in NUMERIC_KINDS:
            return "num"
        return {"date": "date", "bool": "bool"}.get(self.kind, "text")


@dataclass(frozen=True)
class TableSpec:
    name: str
    singular: str
    cols: tuple[ColSpec, ...]
    parents: tuple[str, ...] = ()

    @property
    def label(self) -> ColSpec | None:
        first = self.cols[0] if self.cols else None
        return first if first is not None and first.kind in TEXT_KINDS - {"choice"} else None


@dataclass(frozen=True)
class Domain:
    name: str
    description: str
    tables: tuple[TableSpec, ...] = field(default_factory=tuple)

    def table(self, name: str) -> TableSpec:
        return next(t for t in self.tables if t.name == name)


_COL = re.compile(r"^\s*(\w+):(\w+)(?:\(([^)]*)\))?(?:~(.+))?\s*$")


def _singular(plural: str) -> str:
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    if plural.endswith(("sses", "shes", "ches", "xes")):
        return plural[:-2]
    return plural[:-1] if plural.endswith("s") else plural


def _col(text: str) -> ColSpec:
    m = _COL.match(text)
    if not m:
        raise ValueError(f"bad column spec: {text!r}")
    name, kind, args, spoken = m.groups()
    sep = "|" if kind in ("choice", "pick") else ","
    parsed = tuple(a.strip() for a in args.split(sep)) if args else ()
    spoken = spoken or name.replace("_", " ").removeprefix("is ")
    return ColSpec(name, kind, parsed, spoken)


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [p for p in parts + [cur] if p.strip()]


def _table(line: str) -> TableSpec:
    head, cols = line.split(":", 1)
    head, _, parents = head.partition(">")
    plural, _, singular = head.strip().partition("/")
    return TableSpec(plural, singular or _singular(plural), tuple(_col(c) for c in _split_top(cols)),
                     tuple(p.strip() for p in parents.split(",") if p.strip()))


def domain(name: str, description: str, spec: str) -> Domain:
    return Domain(name, description, tuple(_table(ln) for ln in spec.strip().splitlines() if ln.strip()))


__all__ = ["ColSpec", "Domain", "TableSpec", "domain"]
