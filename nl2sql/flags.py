"""The decoding flags of every command line (python -m nl2sql, python -m eval.evaluate): one definition,
so their names, defaults and help never drift apart. Each flag's dest is a field of pipeline.Decoding,
which `Decoding.from_args` reads."""

from __future__ import annotations

import argparse

from nl2sql.backends.base import DEFAULT_MAX_NEW_TOKENS
from nl2sql.request import (DEFAULT_CANDIDATES, DEFAULT_CONSTRAIN, DEFAULT_FOLLOW_KEYS, DEFAULT_INFER_KEYS, DEFAULT_LINK,
                            DEFAULT_MEND_LITERALS, DEFAULT_VALUES, DEFAULT_VOTES)


def add_decoding_flags(p: argparse.ArgumentParser) -> None:
    """Add the flags that set pipeline.Decoding to a parser."""
    on_off = argparse.BooleanOptionalAction
    p.add_argument("--max-new-tokens", "--max_new_tokens", dest="max_new_tokens", type=int,
                   default=DEFAULT_MAX_NEW_TOKENS, help="longest answer in tokens (default: %(default)s)")
    p.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES,
                   help="execution-guided selection: when the greedy SQL fails a check, try up to N answers in all "
                        "(default: %(default)s)")
    p.add_argument("--votes", type=int, default=DEFAULT_VOTES,
                   help="voting: greedy + N-1 sampled answers, each run on the data; the most common result wins "
                        "(default: %(default)s)")
    p.add_argument("--constrain", action=on_off, default=DEFAULT_CONSTRAIN,
                   help="schema-constrained decoding: keep the SQL to the schema's tables and columns while it is "
                        "written (nl2sql.constrain; default: %(default)s)")
    p.add_argument("--link", action=on_off, default=DEFAULT_LINK,
                   help="schema linking: show the model only the tables the question needs (default: %(default)s)")
    p.add_argument("--values", action=on_off, default=DEFAULT_VALUES,
                   help="value hints: the stored values the question names, beside their columns (needs data; "
                        "default: %(default)s)")
    p.add_argument("--infer-keys", "--infer_keys", dest="infer_keys", action=on_off, default=DEFAULT_INFER_KEYS,
                   help="where two tables declare no foreign key, infer one from the names (nl2sql.joins) and show it "
                        "as declared (default: %(default)s)")
    p.add_argument("--follow-keys", "--follow_keys", dest="follow_keys", action=on_off, default=DEFAULT_FOLLOW_KEYS,
                   help="with --constrain: JOIN names a table that shares a key with one already joined and ON "
                        "starts with that key's equality (nl2sql.constrain.joining; default: %(default)s)")
    p.add_argument("--mend-literals", "--mend_literals", dest="mend_literals", action=on_off,
                   default=DEFAULT_MEND_LITERALS,
                   help="move a string compared with a column that does not hold it to the one column that does "
                        "(needs data; nl2sql.mend; default: %(default)s)")
