"""Schema-constrained decoding: the pure check on partial SQL, the mask over next-token scores, and that
the transformers and llama.cpp backends and the pipeline really apply it."""


import numpy as np
import pytest

from nl2sql import constrain
from nl2sql.backends import Sampling, open_backend
from nl2sql.constrain import Guide, Names, acceptable, names_or_none, sql_region
from nl2sql.pipeline import Decoding, Request, answer
from tests.conftest import scripted

DDL = """CREATE TABLE stadium (Stadium_ID INT PRIMARY KEY, Location TEXT, Name TEXT, Capacity INT);
CREATE TABLE singer (Singer_ID INT PRIMARY KEY, Name TEXT, Country TEXT, Age INT, Song_release_year TEXT);
CREATE TABLE concert (concert_ID INT PRIMARY KEY, concert_Name TEXT, Stadium_ID INT, Year TEXT);"""
NAMES = Names.of(DDL)


@pytest.mark.parametrize("text", [
    "SELECT COUNT(*) FROM singer;",
    "SELECT COUNT(*) FROM sing",  # still becoming a table
    "SELECT Name, Song_rel",  # still becoming a column
    "SELECT COUNT ",  # a function, its "(" not written yet
    "SELECT Age, RANK() OVER (PARTITION BY Country ORDER BY Age) FROM singer",
    "SELECT Name, SUM(Age) OVER () FROM singer ORDER BY RANDOM() LIMIT 1",
    "SELECT Age FROM singer WHERE Age > 1 GROUP BY Age HAVING COUNT(*) > 1 ORDER BY Age LIMIT 1;",
    "SELECT Country, Age FROM singer JOIN concert",  # singer holds both; a join may follow
    "SELECT Name, Year FROM stadium JOIN concert",  # no table holds both: any table may come first
    "SELECT Name, Age FROM singer AS T1 LEFT JOIN concert AS T2 ON T1.Singer_ID = T2.concert_ID",
    "SELECT Name FROM stadium WHERE Capacity < 2014",
    "SELECT T2.Name FROM stadium AS T1 JOIN singer AS T2 ON T1.Stadium_ID = T2.Singer_ID",
    "SELECT s.Name FROM singer s WHERE s.Age > 1",
    "SELECT Name FROM singer WHERE NOT Age IN (SELECT Age FROM singer WHERE Age IS NOT NULL) AND Name NOT LIKE 'a%'",
    "SELECT COUNT(DISTINCT Country), CASE WHEN Age > 1 THEN 'old' ELSE NULL END FROM singer WHERE EXISTS (SELECT 1)",
    "SELECT Name FROM singer WHERE Country IN (SELECT Location FROM stadium)",
    "SELECT COUNT(*) AS cnt, Country FROM singer GROUP BY Country ORDER BY cnt DESC LIMIT 1;",
    "SELECT Name FROM singer WHERE Name = \"Joe Bloggs\" AND Song_release_year LIKE '%no_such_col%'",
    "WITH t AS (SELECT Name, Age FROM singer) SELECT Name FROM t",
    "SELECT CAST(Age AS REAL) FROM singer WHERE Age IS NOT NULL ORDER BY Age DESC LIMIT 3 OFFSET 1",
    "SELECT Country FROM singer GROUP BY Country HAVING COUNT(*) > 2 INTERSECT SELECT Location FROM stadium",
    "UPDATE singer SET Age = Age + 1 WHERE Name = 'x'",
    "INSERT INTO singer (Name, Age) VALUES ('a', 3)",
    "SELECT Name FROM singer; SELECT invented FROM nowhere",  # after the statement: not checked
    "The answer needs the singers table",  # prose: never constrained
])
def test_acceptable(text):
    assert acceptable(text, NAMES)


@pytest.mark.parametrize("text,why", [
    ("SELECT COUNT(*) FROM singers ", "no such table"),
    ("SELECT COUNT(*) FROM singers", "no table starts so"),
    ("SELECT Name, Release_year", "no such column"),
    ("SELECT count FROM", "a function without ("),
    ("SELECT Name FROM stadium WHERE Year < 2014", "Year is not in the tables of FROM"),
    ("SELECT Name FROM singer WHERE Country IN (SELECT Location FROM stadium WHERE Year = 1)", "nor in a subquery"),
    ("SELECT T1.Location FROM stadium AS T1 JOIN singer AS T2 ON T1.Stadium_ID = T2.Stadium_ID", "singer has none"),
    ("SELECT T1.Name, COUNT(*) FROM concert AS T1", "T1.Name was used before T1 named concert"),
    ("SELECT T2.Name FROM stadium AS T1 JOIN conc", "T2 (the next alias) needs a Name column"),
    ("SELECT Name FROM stadium GROUP BY Y155", "not an alias shape: digits run on"),
    ("```sql\nSELECT foo ", "fenced SQL is checked too"),
    ("SELECT Country, Age FROM stadium ", "the first table must hold the columns SELECT named"),
    ("SELECT COUNT(Year) FROM sin", "nor one starting so"),
    ("SELECT Name FROM singer WHERE Full", "join words belong in FROM"),
    ("SELECT Name FROM singer ORDER BY T1.", "after FROM, a qualifier must be in scope"),
    ("SELECT Name FROM singer WHERE Name = 1 名", "stray characters"),
    ("SELECT Name, Name ", "the same name twice in a row"),
    ("SELECT DISTINCT DISTINCT ", "a keyword twice in a row"),
    ("SELECT Name FROM singer WHERE WITH ", "WITH cannot open an expression"),
    ("SELECT Name FROM singer ORDER BY IS ", "nor IS"),
    ("SELECT COUNT(*) FROM singer WHERE NULL(", "a literal is not a function"),
    ("SELECT Country FROM singer WHEREired", "FROM t alias: only short aliases without AS"),
    ("SELECT Name FROM singer ORDER BY MIN()", "MIN takes an argument"),
    ("SELECT Name FROM singer ORDER BY Age DISTINCT ", "DISTINCT after a value"),
    ("SELECT Name FROM singer WHERE Age > 1 SELECT ", "SELECT after a value"),
    ("SELECT COUNT(*) FROM singer WHERE MAX(", "an aggregate in WHERE"),
    ("SELECT Age FROM singer WHERE Age > 1 WHERE ", "a clause twice"),
    ("SELECT Age FROM singer ORDER BY Age WHERE ", "clauses out of order"),
    ("SELECT Age FROM singer WHERE Age IN (SELECT Age FROM singer;", "an open parenthesis at the end"),
])
def test_not_acceptable(text, why):
    assert not acceptable(text, NAMES), why


def test_sql_region():
    assert sql_region("To count singers, use") is None
    assert sql_region("SEL") == "SEL" and sql_region("") is None
    assert sql_region("```sql\nSELECT 1") == "SELECT 1" and sql_region("```sql") is None
    assert names_or_none(None) is None and names_or_none("not sql at all") is None
    assert names_or_none(DDL).tables["singer"] >= {"name", "age"}


class Pieces:
    """A tokenizer stand-in: token i decodes to VOCAB[i]; the last one is the end token."""

    VOCAB = [" singers", " sing", " singer", " stadium", ";", " Name", "er", "</s>"]
    all_special_ids = [7]

    def decode(self, ids, skip_special_tokens=True):
        return "".join(self.VOCAB[i] for i in ids if i != 7)


def _scores(order):
    """Scores ranking the tokens in `order` first to last."""
    s = np.zeros(len(Pieces.VOCAB), dtype=np.float32) - 100
    for rank, tok in enumerate(order):
        s[tok] = 10.0 - rank
    return s


def test_greedy_mask_keeps_the_most_likely_passing_token():
    guide = Guide(NAMES, Pieces(), canonical=False)
    out = guide.mask("SELECT Name FROM", _scores([0, 1, 2, 3]))
    assert np.flatnonzero(np.isfinite(out)).tolist() == [1]  # " sing" may become singer; " singers" cannot
    out = guide.mask("SELECT Name FROM sing", _scores([7, 4, 0, 6]))  # the end or ';' would leave "sing"
    assert np.flatnonzero(np.isfinite(out)).tolist() == [6]


def test_sampling_mask_keeps_every_passing_token_in_the_top_k_and_widens_when_none_passes():
    guide = Guide(NAMES, Pieces(), canonical=False, greedy=False, top_k=3)
    out = guide.mask("SELECT Name FROM", _scores([0, 2, 3, 1]))
    assert np.flatnonzero(np.isfinite(out)).tolist() == [2, 3]  # " singers" fails; " sing" is 4th
    narrow = Guide(NAMES, Pieces(), canonical=False, greedy=False, top_k=1)
    assert np.flatnonzero(np.isfinite(narrow.mask("SELECT Name FROM", _scores([0, 5, 3])))).tolist() == [3]


def test_mask_leaves_prose_and_dead_ends_alone():
    guide = Guide(NAMES, Pieces(), canonical=False)
    s = _scores([0, 1])
    assert guide.mask("The answer is", s) is s
    stuck = Guide(NAMES, Pieces(), canonical=False, widen=2)
    s = _scores([0, 5, 2])
    assert np.array_equal(stuck.mask("SELECT Name FROM", s), s)  # nothing in reach passes: left unconstrained


def test_a_sampled_answer_that_keeps_missing_is_left_alone_after_patience_runs_out(monkeypatch):
    """Each step where nothing passes checks `widen` candidates: a sampled answer off the schema would pay that to
    its last token. After `patience` such steps the guide stands aside; a greedy answer is held to the end."""
    for greedy, checked_on_third in ((False, False), (True, True)):
        guide = Guide(NAMES, Pieces(), canonical=False, greedy=greedy, top_k=2, widen=2, patience=2)
        checks = []
        real = guide.faults
        monkeypatch.setattr(guide, "faults", lambda text: checks.append(text) or real(text))
        for _ in range(2):
            s = _scores([0, 5])  # " singers" and the next piece both fail after FROM: nothing passes
            assert guide.mask("SELECT Name FROM", s) is s
        before = len(checks)
        s = _scores([0, 5])
        assert guide.mask("SELECT Name FROM", s) is s
        assert (len(checks) > before) is checked_on_third


def test_unfinished_words_must_start_names_as_the_tokenizer_spells_them(tiny_model_dir, company_schema):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    guide = Guide(Names.of(company_schema), tok)
    # The tiny tokenizer spells " employees" as one token and " department_id" as " department", "_", "id".
    assert tok(" employees", add_special_tokens=False)["input_ids"].__len__() == 1
    assert guide.faults("SELECT name FROM employees") == set()
    assert guide.faults("SELECT name FROM employee") == {17}  # a prefix, but never on the way to " employees"
    assert acceptable("SELECT name FROM employee", Names.of(company_schema))  # the pure check lets it by
    assert guide.faults("SELECT department") == guide.faults("SELECT department_") == set()


def test_faults_already_written_are_not_held_against_later_tokens():
    guide = Guide(NAMES, Pieces(), canonical=False)
    text = "SELECT Nonsense FROM"  # written in a step where nothing passed
    assert guide.faults(text) == {7}
    out = guide.mask(text, _scores([0, 1, 3]))
    assert np.flatnonzero(np.isfinite(out)).tolist() == [1]  # " singers" is still refused, " sing" kept


FORCED = "SELECT name FROM employees;"


@pytest.fixture
def forced(monkeypatch):
    """Make every Guide force the tokens of FORCED in turn, recording the texts it was shown."""
    seen = []

    def mask(self, text, scores):
        seen.append(text)
        ids = self.tokenizer(FORCED, add_special_tokens=False)["input_ids"]
        prefix = self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        out = np.full_like(scores, -np.inf)
        out[ids[len(prefix)] if len(prefix) < len(ids) else self.tokenizer.eos_token_id] = 0.0
        return out

    monkeypatch.setattr(constrain.Guide, "mask", mask)
    return seen


# llama-cpp-python is part of the install path (requirements.txt): both engines are required here.
ENGINES = {"transformers": dict(dtype="float32", device="cpu"), "llama.cpp": dict(quant="f32")}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_backends_apply_the_guide_greedy_and_sampled(engine, tiny_model_dir, forced, tmp_path, monkeypatch,
                                                     company_schema):
    monkeypatch.setenv("NL2SQL_CACHE", str(tmp_path / "cache"))
    lm = open_backend(str(tiny_model_dir), engine, **ENGINES[engine])
    assert lm.kind == engine
    names = Names.of(company_schema)
    assert lm.generate("q", 40, names=names).text == FORCED
    assert lm.generate("q", 40, Sampling(seed=3), names=names).text == FORCED
    assert [g.text for g in lm.generate_batch(["q", "r"], 40, names=[names, names])] == [FORCED, FORCED]
    assert lm.generate("q", 40).text != FORCED  # no names: the random model writes its own
    ans = answer(lm, Request("How many employees?", company_schema), Decoding(max_new_tokens=40))
    assert ans.constrained and ans.model_sql == "SELECT name FROM employees"
    free = Decoding(max_new_tokens=4, constrain=False)
    assert not answer(lm, Request("How many employees?", company_schema), free).constrained
    assert not answer(lm, Request("How many employees?"), Decoding(max_new_tokens=4)).constrained  # no schema
    assert forced[0] == "" and "SELECT name FROM" in forced  # shown the growing answer, not the prompt


def _constrained_calls(lm) -> list[bool]:
    return [c.constrained for c in lm.calls]


def test_an_unparsable_constrained_answer_gives_way_to_the_free_one(company_schema):
    # Queued: what the model writes when steered, then (if asked again) what it writes free.
    lm = scripted(["SELECT name FROM employees WHERE WITH;", "SELECT nickname FROM employees;"])
    a = answer(lm, Request("q", company_schema))
    assert a.model_sql == "SELECT nickname FROM employees" and not a.constrained
    assert _constrained_calls(lm) == [True, False]
    lm = scripted(["SELECT name FROM employees;", "SELECT nickname FROM employees;"])
    a = answer(lm, Request("q", company_schema))
    assert a.model_sql == "SELECT name FROM employees" and a.constrained and _constrained_calls(lm) == [True]
    lm = scripted(["SELECT name FROM employees WHERE WITH;", "SELEC nickname FRM employees;"])
    a = answer(lm, Request("q", company_schema))
    assert a.constrained and not a.validation.ok and _constrained_calls(lm) == [True, False]  # neither parses
    lm = scripted(["Here is how to count them.", "Here is how to count them."])
    assert not answer(lm, Request("q", company_schema)).validation.ok and _constrained_calls(lm) == [True]


# The join graph in decoding (constrain.joining, Decoding.follow_keys): JOIN names a table sharing a key with one
# already joined; ON's first condition is that key's equality. Keys declared, or inferred (nl2sql.joins).
SHOP = """CREATE TABLE customer (id INT PRIMARY KEY, name TEXT);
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT REFERENCES customer(id), placed TEXT);
CREATE TABLE item (order_id INT REFERENCES orders(id), product_id INT REFERENCES product(id), qty INT);
CREATE TABLE product (id INT PRIMARY KEY, title TEXT, price REAL);
CREATE TABLE note (body TEXT);"""
KEYED = Names.of(SHOP, joins=True)


@pytest.mark.parametrize("text", [
    "SELECT c.name FROM customer AS c JOIN orders AS o ON c.id = o.customer_id",
    "SELECT c.name FROM customer AS c JOIN orders AS o ON o.customer_id = c.id",  # either side first
    "SELECT c.name FROM customer c JOIN orders o ON o.customer_id = c.id JOIN item i ON i.order_id = o.id "
    "JOIN product p ON p.id = i.product_id WHERE p.title = 'x'",  # the whole path, bridge tables included
    "SELECT * FROM customer JOIN orders ON customer.id = orders.customer_id",  # table names as qualifiers
    "SELECT * FROM customer AS c JOIN orders AS o ON c.id = o.customer_id AND o.placed > '2020'",  # then free
    "SELECT * FROM customer AS c JOIN orders AS o ON c.id = o.cust",  # a key column still being written
    "SELECT * FROM customer AS c JOIN orders AS o ON c",  # a qualifier still being written
    "SELECT * FROM customer AS c JOIN note AS n ON c.name = n.body",  # note has no key: escape
    "SELECT * FROM note AS n JOIN customer AS c ON n.body = c.name",  # nothing joined so far has a key: escape
    "SELECT * FROM customer AS c, product AS p WHERE c.id = p.id",  # comma joins are not held to keys
    "SELECT * FROM (SELECT id FROM customer) AS s JOIN product AS p ON s.id = p.id",  # a subquery: escape
    "SELECT * FROM customer AS c JOIN orders AS o ON c.id = o.customer_id JOIN item AS i ON o.id = i.order_id",
    # SELECT already used T2 with product's columns: the alias's table wins over adjacency (no dead end)
    "SELECT T2.title FROM customer AS T1 JOIN product AS T2",
])
def test_joins_along_keys_acceptable(text):
    assert acceptable(text, KEYED)


@pytest.mark.parametrize("text,why", [
    ("SELECT * FROM customer AS c JOIN product", "product shares no key with customer: the path skips orders, item"),
    ("SELECT * FROM customer AS c JOIN item", "item is two hops away"),
    ("SELECT * FROM customer AS c JOIN orders AS o ON c.id = o.id", "o.id is no key to customer"),
    ("SELECT * FROM customer AS c JOIN orders AS o ON c.name", "customer.name is in no key"),
    ("SELECT * FROM customer AS c JOIN orders AS o ON c.id > o.customer_id", "an equality"),
    ("SELECT * FROM customer AS c JOIN orders AS o ON c.id = c.id", "the other side of the key"),
    ("SELECT * FROM customer AS c JOIN orders AS o ON o.placed", "orders.placed is in no key"),
    ("SELECT * FROM orders AS o JOIN item AS i ON o.customer_id = i.order_id", "customer_id joins customer, not item"),
])
def test_joins_along_keys_refused(text, why):
    assert not acceptable(text, KEYED), why
    assert acceptable(text, Names.of(SHOP)), "without the graph the same text passes"


def test_inferred_keys_guide_joins_where_none_are_declared():
    """A schema that declares no key: the keys inferred from names (nl2sql.joins) guide JOIN and ON alike."""
    from nl2sql.joins import strip_foreign_keys, with_inferred_keys
    from nl2sql.schema import parse_schema

    bare = parse_schema(strip_foreign_keys(SHOP))
    assert not Names.of(bare, joins=True).edges  # nothing declared, nothing inferred: no rule
    names = Names.of(with_inferred_keys(bare), joins=True)
    assert not acceptable("SELECT * FROM customer AS c JOIN product", names)
    assert acceptable("SELECT * FROM customer AS c JOIN orders AS o ON o.customer_id = c.id", names)
    assert not acceptable("SELECT * FROM customer AS c JOIN orders AS o ON o.id = c.id", names)


def test_follow_keys_reaches_the_decoder():
    """Decoding(follow_keys=True) hands the graph to the names that constrain decoding; off, it does not."""
    from nl2sql.pipeline import prepare

    lm = scripted([])
    on = prepare(lm, Request("q", SHOP), Decoding(follow_keys=True, link=False))
    off = prepare(lm, Request("q", SHOP), Decoding(link=False))
    assert on.names.edges and ("orders", "customer_id", "customer", "id") in on.names.edges
    assert not off.names.edges
