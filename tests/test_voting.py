"""Voting: greedy plus sampled answers, each run; the most common result wins, ties go to greedy."""

import pytest

from nl2sql.choose import vote
from nl2sql.pipeline import DEFAULT_LINK, DEFAULT_VALUES, Decoding, Request, answer
from nl2sql.sandbox import RunResult
from tests.conftest import EXAMPLES, scripted

SCHEMA = (EXAMPLES / "company.sql").read_text()  # has rows: answers can be run
TOP = "SELECT name FROM employees ORDER BY salary DESC LIMIT 1;"  # Ada
TOP_TOO = "SELECT name FROM employees WHERE salary = (SELECT MAX(salary) FROM employees);"  # Ada, another way
LOW = "SELECT name FROM employees ORDER BY salary LIMIT 1;"  # Barbara
BROKEN = "SELECT name FROM employees ORDER BY AVG(id) LIMIT 1;"  # parses, fails when run


@pytest.mark.parametrize("script,chosen,agreed", [
    ([LOW, TOP, TOP_TOO], TOP, 2),  # two samples agree against greedy: the first of them wins
    ([TOP, LOW, TOP_TOO], TOP, 2),  # greedy in the largest group: greedy
    ([TOP, LOW], TOP, 1),  # a tie: greedy
    ([BROKEN, LOW, LOW], LOW, 2),  # a greedy answer that fails cannot win
    ([BROKEN, "no SQL here", BROKEN], BROKEN, 0),  # nothing ran: greedy stands
])
def test_the_most_common_result_wins(script, chosen, agreed):
    lm = scripted(script)
    a = answer(lm, Request("Who earns most?", SCHEMA), Decoding(votes=len(script), max_new_tokens=400))
    assert a.model_sql == chosen.rstrip(";") and a.votes == (agreed, len(script))
    assert lm.seeds == [None, *range(1, len(script))] and a.candidates_tried == len(script)


@pytest.mark.parametrize("schema", [SCHEMA.split("INSERT")[0], None])
def test_no_rows_no_voting(schema):
    lm = scripted([TOP, LOW, LOW])
    a = answer(lm, Request("Who earns most?", schema), Decoding(votes=3))
    assert a.votes is None and lm.seeds == [None]  # empty tables or none: results cannot tell answers apart


def test_vote_is_pure_on_results():
    ok = lambda rows: type("A", (), {"result": RunResult(["x"], rows)})()  # noqa: E731
    failed = type("A", (), {"result": RunResult(error="boom")})()
    assert vote([ok([(1,), (2,)]), ok([(2,), (1,)]), ok([(3,)])]) == (0, 2)  # order of rows does not matter
    assert vote([failed, ok([(3,)]), ok([(4,)])]) == (1, 1)
    assert vote([failed]) == (0, 0)


@pytest.mark.parametrize("module", ["eval.evaluate", "nl2sql.__main__"])
def test_command_lines_ask_for_what_their_flags_say(module):
    # Regression: eval once built Decoding positionally, so --votes 8 set value hints on and voting off.
    import importlib

    parse = importlib.import_module(module).parse_args
    cli = module == "nl2sql.__main__"
    head = ["How many?"] if cli else ["--model", "m", "--data", "d", "--out", "o"]
    tokens = "--max-new-tokens" if cli else "--max_new_tokens"
    flags = ["--votes", "8", "--candidates", "3", tokens, "50", "--no-link", "--no-values"]
    asked = Decoding.from_args(parse(head + flags))
    assert (asked.votes, asked.values, asked.candidates, asked.max_new_tokens, asked.link) == (8, False, 3, 50, False)
    assert Decoding.from_args(parse(head + ["--values"])).values is True
    default = Decoding.from_args(parse(head))
    assert (default.votes, default.values, default.link) == (1, DEFAULT_VALUES, DEFAULT_LINK) == (1, True, True)


def test_decoding_takes_names_only():
    with pytest.raises(TypeError):
        Decoding(160, True, 1, 8, True, 8)  # the mistake this forbids
