"""nl2sql: English questions to SQL with a small model, checked with sqlglot and run in a SQLite sandbox.

The one path from question to answer is `nl2sql.pipeline` (answer(backend, Request, Decoding)); models
load with `nl2sql.backends.open_backend`.
"""

__version__ = "0.1.0"
