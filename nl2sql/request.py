"""What goes into the pipeline and what comes out: `Request` (one question and where its data lives),
`Decoding` (how to decode, the same for a whole call), `Answer`, and `Prepared` (a request read once).
The defaults of decoding live here too; nl2sql.pipeline re-exports every name, and callers import them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from nl2sql.backends.base import DEFAULT_MAX_NEW_TOKENS, Generation
from nl2sql.constrain import Names
from nl2sql.link import Linking
from nl2sql.mend import Holders
from nl2sql.sandbox import RunResult
from nl2sql.schema import PreparedSchema
from nl2sql.sql import Unknown, Validation

MODEL_DIALECT = "sqlite"
DEFAULT_CANDIDATES = 1  # 4 lifts grounded answers, not correct ones, at ~1.5x the time (docs/evaluation-and-decoding.md)
DEFAULT_CONSTRAIN = True  # schema-constrained decoding (docs/evaluation-and-decoding.md)
DEFAULT_LINK = True  # schema linking (docs/linking.md)
DEFAULT_VALUES = True  # value hints in the prompt: the shipped model was trained with them and gains (docs/linking.md)
DEFAULT_INFER_KEYS = True  # keys inferred from names where a table pair declares none (nl2sql.joins): Spider dev 300 43.0 -> 43.3%, with no declared key 38.3 -> 39.7%
DEFAULT_MEND_LITERALS = True  # strings moved to the column that holds them (nl2sql.mend): +4.0 points on Spider dev 300, none lost
DEFAULT_FOLLOW_KEYS = False  # constrained JOIN/ON follow the join graph (nl2sql.constrain.joining)
DEFAULT_VOTES = 1  # voting costs votes x the time (docs/evaluation-and-decoding.md)


@dataclass
class Request:
    """One question. `schema`: DDL, optionally followed by INSERT rows; `context`: more rows kept apart
    (canonical data rows carry them so); `db`: a SQLite file, or a database URL (postgresql://...,
    duckdb:///file.duckdb, mysql://...; nl2sql.database), whose own schema is used when `schema` is
    None. `run`: None runs when there is data. `dialect`: of the SQL shown; None: the database's own
    (sqlite for a file or a pasted schema)."""

    question: str
    schema: str | None = None
    dialect: str | None = None  # of the SQL shown (None: the database's own)
    run: bool | None = None
    db: str | Path | None = None
    context: str | None = None
    snapshot: bool = False  # a statement that changes data also returns every table's rows (evaluation)
    tables: list[str] | None = None  # show the model exactly these tables (else schema linking chooses)


@dataclass(frozen=True, kw_only=True)
class Decoding:
    """How to decode; the same for every request of a call. Fields by name only: a positional call once
    sent --votes into `values` (and --values into `votes`)."""

    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    constrain: bool = DEFAULT_CONSTRAIN
    candidates: int = DEFAULT_CANDIDATES
    batch_size: int = 8
    link: bool = DEFAULT_LINK  # schema linking: show the model the tables the question needs (nl2sql.link)
    values: bool = DEFAULT_VALUES  # show the values the question names beside their columns (nl2sql.values)
    votes: int = DEFAULT_VOTES  # > 1: greedy + votes-1 samples, run, the most common result wins (nl2sql.choose)
    infer_keys: bool = DEFAULT_INFER_KEYS  # keys inferred from names where a table pair declares none (nl2sql.joins)
    mend_literals: bool = DEFAULT_MEND_LITERALS  # strings moved to the column that holds them (nl2sql.mend)
    follow_keys: bool = DEFAULT_FOLLOW_KEYS  # constrained JOIN/ON follow the join graph (nl2sql.constrain.joining)

    @classmethod
    def from_args(cls, args) -> "Decoding":
        """The decoding a command line asked for: each field from the attribute of the same name, where
        `args` (an argparse.Namespace) has one; the default otherwise."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)})


@dataclass
class Answer:
    question: str
    sql: str  # in the requested dialect
    model_sql: str  # as the model wrote it (SQLite), qualifiers mended (requalified); what the sandbox runs
    dialect: str
    validation: Validation
    unknown: list[Unknown] = field(default_factory=list)
    result: RunResult | None = None
    generation: Generation | None = None
    model_name: str = ""
    candidates_tried: int = 1  # answers generated for it (execution-guided selection)
    selection_s: float = 0.0  # seconds spent on the extra candidates
    constrained: bool = False  # decoded under schema constraints (nl2sql.constrain)
    changes_data: bool = False  # INSERT/UPDATE/DELETE/DDL: runs only on a private copy
    linking: Linking | None = None  # the tables the prompt showed (None: no schema)
    votes: tuple[int, int] | None = None  # (answers that agreed with this one, answers generated) when voting
    requalified: list[str] = field(default_factory=list)  # qualifiers mended, "T3.name -> T2.name" (sql.requalify)
    literals: list[str] = field(default_factory=list)  # strings moved to the column holding them (nl2sql.mend)

    @property
    def ok(self) -> bool:
        return self.validation.ok and not self.unknown and (self.result is None or self.result.ok)


@dataclass(frozen=True)
class Prepared:
    """A request read once: its schema, the prompt and the names that constrain decoding."""

    request: Request
    schema: PreparedSchema | None
    prompt: str
    names: Names | None
    linking: Linking | None = None
    holders: Holders | None = None  # who holds which string, for the literal mend (Decoding.mend_literals)


__all__ = ["Answer", "DEFAULT_CANDIDATES", "DEFAULT_CONSTRAIN", "DEFAULT_FOLLOW_KEYS", "DEFAULT_INFER_KEYS", "DEFAULT_LINK", "DEFAULT_MEND_LITERALS",
           "DEFAULT_VALUES", "DEFAULT_VOTES", "Decoding", "MODEL_DIALECT", "Prepared", "Request"]
