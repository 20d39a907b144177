"""Schema-constrained decoding: keep the model's SQL to the tables and columns the schema has.

A light, PICARD-style check of the text written so far. While the model writes a SQL statement,
every word must be able to become a SQL keyword, a function (followed by "("), a table where a table
belongs (after FROM, JOIN, INTO, UPDATE; the first one holding the columns SELECT already named, and
the next T1/T2 alias's table holding the columns already used with it), a column of the schema (of
the named table when qualified by a table or a defined alias; of the tables in scope once WHERE, ON,
GROUP BY, HAVING or ORDER BY follow FROM), or an alias. A few placement rules a small model breaks
are enforced too: clauses in order and once per query level, no aggregate in WHERE/ON/GROUP BY, no
`x, x`, no stray characters, no "(" left open at the end. An unfinished word must be the start of a
name as the tokenizer itself spells it.

At each step the decoder tries the most likely next tokens in order and keeps the first whose text
passes (`Guide.mask`; for sampling, every passing one among the top few), looking further down the
ranking when none of the top few passes and leaving the step unconstrained when nothing in reach
does: the check steers, it never dead-ends the model. Prose, and everything after the statement
ends, is never constrained: a model that answers in words is left alone. Window functions beyond
ROW_NUMBER/RANK/DENSE_RANK, DDL and rare clauses are outside its word lists; turn it off
(`constrain=False`, `--no-constrain`, `CONSTRAIN=0`) for those.

Modules: `lexer` (tokens, word lists), `checker` (`failures(text, names)` /
`acceptable(text, names)`, the pure checks, one handler per kind of position), `rules` (one query level's
state and the placement rules), `names` (the schema's names) and `guide` (`Guide`, the mask over
next-token scores shared by the transformers and llama.cpp backends).
"""

from nl2sql.constrain.checker import acceptable, failures
from nl2sql.constrain.names import Names, names_or_none
from nl2sql.constrain.guide import Guide
from nl2sql.constrain.lexer import AGGREGATES, FUNCTIONS, KEYWORDS
from nl2sql.sql import sql_region

__all__ = ["AGGREGATES", "FUNCTIONS", "Guide", "KEYWORDS", "Names", "acceptable", "failures", "names_or_none",
           "sql_region"]
