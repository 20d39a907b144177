import pytest
from transformers import AutoTokenizer

from nl2sql.prompt import SYSTEM, build_prompt, completion, render_schema, user_text
from nl2sql.schema import SchemaError, parse_schema, split_ddl

DDL = """CREATE TABLE "stadium" ("Stadium_ID" NUMERIC, "Name" TEXT, PRIMARY KEY ("Stadium_ID"));
CREATE TABLE concert (concert_ID INT PRIMARY KEY, Stadium_ID TEXT, FOREIGN KEY (Stadium_ID) REFERENCES stadium(Stadium_ID));
CREATE TABLE "order items" (id INT, "unit price" REAL, concert_id INT REFERENCES concert(concert_ID));
INSERT INTO stadium VALUES (1, 'Wembley');"""


def test_parse_schema_reads_keys():
    s = parse_schema(DDL)
    assert [t.name for t in s.tables] == ["stadium", "concert", "order items"]
    assert s.table("STADIUM").column("stadium_id").primary_key
    assert [(f.column, f.ref_table, f.ref_column) for f in s.table("concert").foreign_keys] == [
        ("Stadium_ID", "stadium", "Stadium_ID")]


def test_render_schema_compact_one_line_per_table():
    assert render_schema(DDL).splitlines() == [
        "stadium(Stadium_ID*, Name)",
        "concert(concert_ID*, Stadium_ID->stadium.Stadium_ID)",
        '"order items"(id, "unit price", concert_id->concert.concert_ID)',
    ]


def test_render_schema_keeps_selected_tables():
    assert render_schema(DDL, tables=["Concert"]) == "concert(concert_ID*, Stadium_ID->stadium.Stadium_ID)"


def test_split_ddl_separates_inserts():
    ddl, rest = split_ddl(DDL)
    assert ddl.count("CREATE TABLE") == 3 and "INSERT" not in ddl
    assert rest.strip() == "INSERT INTO stadium VALUES (1, 'Wembley');"


def test_bad_ddl_raises_schema_error():
    with pytest.raises(SchemaError):
        render_schema("CREATE TABLE (id INT")


def test_question_only_prompt_is_the_bare_question():
    assert user_text("  How many   singers? ") == "How many singers?"
    assert build_prompt("How many singers?") == "How many singers?\nSQL: "


def test_plain_template_with_schema(tiny_plain_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_plain_model_dir)
    p = build_prompt("How many concerts?", DDL, tok)
    assert p == ("Tables:\nstadium(Stadium_ID*, Name)\nconcert(concert_ID*, Stadium_ID->stadium.Stadium_ID)\n"
                 '"order items"(id, "unit price", concert_id->concert.concert_ID)\nQuestion: How many concerts?\nSQL: ')


def test_chat_template_prompt_and_completion(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    p = build_prompt("How many concerts?", DDL, tok)
    assert p.startswith(f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\nTables:\nstadium(")
    assert p.endswith("Question: How many concerts?<|im_end|>\n<|im_start|>assistant\n")
    assert completion("SELECT COUNT(*) FROM concert ;", tok) == "SELECT COUNT(*) FROM concert;<|im_end|>"


def test_compact_schema_costs_far_fewer_tokens(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ddl = split_ddl(DDL)[0]
    assert len(tok(render_schema(ddl))["input_ids"]) < 0.7 * len(tok(ddl)["input_ids"])
