"""Database URLs (SQLAlchemy's form: `postgresql://...`, `duckdb:///file.duckdb`, `mysql://...`): told apart
from SQLite file paths, their sqlglot dialect, the driver each needs, and their passwords kept out of every
message (`masked`, `scrub`). Pure string work: nothing here connects (nl2sql.database does).
"""

from __future__ import annotations

import re
from pathlib import Path

# sqlglot's dialect for each SQLAlchemy backend name (the part of the URL before '+' or '://').
DIALECTS = {"postgresql": "postgres", "postgres": "postgres", "duckdb": "duckdb", "mysql": "mysql",
            "mariadb": "mysql", "sqlite": "sqlite"}
# The driver each backend needs, for the message when it is missing.
DRIVERS = {"postgresql": "psycopg[binary]", "duckdb": "duckdb-engine", "mysql": "pymysql", "mariadb": "pymysql"}
# A plain `postgresql://` or `mysql://` URL uses the driver we install, not SQLAlchemy's default one.
_DEFAULT_DRIVER = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "mysql": "mysql+pymysql",
                   "mariadb": "mariadb+pymysql"}
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class DatabaseError(ValueError):
    """A database that cannot be used (wrong URL, missing driver, refused login, down): one line, no password."""


def is_url(db) -> bool:
    return isinstance(db, str) and bool(_URL.match(db.strip()))


def backend_of(url: str) -> str:
    """'postgresql' for postgresql+psycopg://..., 'duckdb' for duckdb:///x.duckdb."""
    return url.split("://", 1)[0].split("+", 1)[0].lower()


def dialect_of(db) -> str:
    """The sqlglot dialect of a database: its URL's backend, or sqlite for a file path."""
    if not is_url(db):
        return "sqlite"
    name = backend_of(db)
    if name not in DIALECTS:
        raise DatabaseError(f"unsupported database {name!r}: use one of postgresql://, duckdb:///, mysql://, "
                            "sqlite:/// or a SQLite file path")
    return DIALECTS[name]


def sqlite_path(db) -> Path | None:
    """The file of a SQLite database given as a path or a sqlite:/// URL; None for other URLs."""
    if db is None:
        return None
    if not is_url(db):
        return Path(db)
    if backend_of(db) == "sqlite":
        return Path(db.split("://", 1)[1][1:] or ":memory:")
    return None


def masked(url: str) -> str:
    """The URL with its password replaced by ***, for anything a person or a log sees."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: mask by shape
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _password(url: str) -> str | None:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password
    except Exception:  # noqa: BLE001
        return None


def scrub(message: str, url: str) -> str:
    """A message with the URL's password (and the URL itself) masked, on one line."""
    secret = _password(url)
    text = message.replace(url, masked(url))
    if secret:
        text = text.replace(str(secret), "***")
    return " ".join(text.split())


def engine_url(url: str) -> str:
    """The URL SQLAlchemy is given: a plain backend name gets the driver the kit installs."""
    head, rest = url.split("://", 1)
    return f"{_DEFAULT_DRIVER.get(head.lower(), head)}://{rest}"


__all__ = ["DIALECTS", "DRIVERS", "DatabaseError", "backend_of", "dialect_of", "engine_url", "is_url", "masked",
           "scrub", "sqlite_path"]
