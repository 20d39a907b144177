"""The app's handlers called directly, and its API through gradio_client against a live server."""

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import gradio as gr
import pytest

import app
from nl2sql.service import InputError, ServiceConfig, check_text, load_upload
from tests.conftest import EXAMPLES

SCHEMA = (EXAMPLES / "company.sql").read_text()


@pytest.fixture
def tiny_app(tiny_model_dir):
    config = ServiceConfig(base_model=str(tiny_model_dir), ft_model=str(tiny_model_dir), max_new_tokens=6,
                           max_question_chars=200, backend="transformers")
    return app.App(config)


def test_generate_streams_then_reports(tiny_app):
    events = list(tiny_app.generate_sql("How many employees?", SCHEMA, "sqlite"))
    assert len(events) >= 2 and events[0][1] == "⏳ writing…"
    sql, verdict = events[-1]
    # The random tiny model writes whatever it writes: the verdict must match what its SQL really is.
    from nl2sql.sql import validate

    expected = "✅" if validate(sql).ok else "❌ **invalid SQL**"
    assert verdict.startswith(expected) and "tokens/s" in verdict and "· transformers ·" in verdict


@pytest.mark.parametrize("question,message", [("", "Please enter a question"), ("x" * 201, "limit is 200"),
                                              ("bad\x00bytes", "binary")])
def test_generate_rejects_bad_questions(tiny_app, question, message):
    with pytest.raises(gr.Error, match=message):
        list(tiny_app.generate_sql(question, SCHEMA, "sqlite"))


def test_generate_rejects_bad_schema(tiny_app):
    with pytest.raises(gr.Error, match="Schema error: schema does not parse"):
        list(tiny_app.generate_sql("How many?", "CREATE TABLE (", "sqlite"))


def test_run_sql_on_schema_and_dialects(tiny_app):
    df, status = tiny_app.run_sql("SELECT name FROM employees ORDER BY salary DESC LIMIT 2", "sqlite", SCHEMA)
    assert list(df["name"]) == ["Ada", "Linus"] and status.startswith("2 rows in ")
    df, _ = tiny_app.run_sql("SELECT TOP 1 name FROM employees ORDER BY salary DESC", "tsql", SCHEMA)
    assert list(df["name"]) == ["Ada"]


@pytest.mark.parametrize("sql,message", [
    ("ATTACH DATABASE '/tmp/evil.db' AS e", "refused: ATTACH"),
    ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT MAX(x) FROM c", "s limit"),
    ("DROP TABLE employees", "done on a private copy: nothing was saved"),
    ("DELETE FROM employees", "5 rows changed on a private copy: nothing was saved"),
    ("SELECT printf('%.*c', 300000000, 'x')", "refused: printf() width or precision over 1,000,000"),
    ("SELECT length(randomblob(1000000000))", "refused: a value would be larger than 1,000,000 bytes"),
])
def test_run_sql_is_sandboxed(tiny_app, sql, message):
    df, status = tiny_app.run_sql(sql, "sqlite", SCHEMA)
    assert message in status
    assert list(df.columns) == [""] and df.empty  # no phantom table: an empty one


def test_run_sql_needs_data(tiny_app):
    with pytest.raises(gr.Error, match="Add a schema"):
        tiny_app.run_sql("SELECT 1", "sqlite", "")


def test_validate_sql_report(tiny_app):
    report, pretty, out = tiny_app.validate_sql("select e.nme from employees e limit 3", "sqlite", "tsql", SCHEMA)
    assert "valid sqlite" in report and "did you mean employees.name" in report
    assert pretty.startswith("SELECT") and "TOP 3" in out
    report, _, out = tiny_app.validate_sql("SELECT FROM WHERE", "sqlite", "postgres", "")
    assert "invalid" in report and "line 1" in report and out == ""


def test_compare_both_sides(tiny_app):
    outs = tiny_app.compare("How many employees?", SCHEMA, "sqlite")
    assert len(outs) == 8 and outs[0].startswith("**model") and outs[4].startswith("**model")


def test_compare_without_fine_tuned_model_says_how_to_train(tiny_model_dir):
    config = ServiceConfig(base_model=str(tiny_model_dir), ft_model=None, max_new_tokens=4, backend="transformers")
    outs = app.App(config).compare("How many employees?", SCHEMA, "sqlite")
    assert "No fine-tuned model is configured" in outs[4] and "training.train" in outs[4]


def test_unexpected_errors_hide_the_stack_trace(tiny_app, monkeypatch):
    def boom(*a, **k):
        raise KeyError("internal detail")

    monkeypatch.setattr(app, "validation_report", boom)  # stands for any internal fault
    with pytest.raises(gr.Error) as e:
        tiny_app.validate_sql("SELECT 1", "sqlite", "postgres", "")
    assert "KeyError" in str(e.value) and "internal detail" not in str(e.value)


def test_upload_sqlite_and_csv(tmp_path, tiny_app):
    db = tmp_path / "mine.db"
    sqlite3.connect(db).executescript("CREATE TABLE pets (id INT, name TEXT); INSERT INTO pets VALUES (1, 'Rex');")
    schema, db_path, msg = tiny_app.use_upload([str(db)])
    assert "CREATE TABLE pets" in schema and "pets" in msg
    df, _ = tiny_app.run_sql("SELECT name FROM pets", "sqlite", schema, db_path)
    assert list(df["name"]) == ["Rex"]
    _, status = tiny_app.run_sql("DELETE FROM pets", "sqlite", schema, db_path)
    assert status.startswith("1 row changed on a private copy: nothing was saved")
    assert sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM pets").fetchone() == (1,)
    (tmp_path / "sales data.csv").write_text("region,amount\nnorth,10\nsouth,2.5\nnorth,\n")
    schema, db_path, _ = tiny_app.use_upload([str(tmp_path / "sales data.csv")])
    assert 'CREATE TABLE "sales_data" ("region" TEXT, "amount" REAL)' in schema
    df, _ = tiny_app.run_sql("SELECT region, SUM(amount) AS total FROM sales_data GROUP BY region ORDER BY region", "sqlite",
                        schema, db_path)
    assert df.values.tolist() == [["north", 10.0], ["south", 2.5]]


def test_upload_parquet_beside_csv(tmp_path, tiny_app):
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"Order ID": [1, 2, 3], "price": [2.5, None, 4.0], "paid": [True, False, True],
                             "day": [datetime.date(2026, 1, d) for d in (1, 2, 3)], "city": ["Oslo", "Rome", None]}),
                   tmp_path / "orders.parquet")
    (tmp_path / "cities.csv").write_text("city,country\nOslo,Norway\nRome,Italy\n")
    schema, db_path, msg = tiny_app.use_upload([str(tmp_path / "orders.parquet"), str(tmp_path / "cities.csv")])
    assert 'CREATE TABLE "orders" ("Order_ID" INTEGER, "price" REAL, "paid" INTEGER, "day" TEXT, "city" TEXT)' in schema
    assert "2 table(s): orders, cities" in msg
    df, _ = tiny_app.run_sql("SELECT o.day, c.country FROM orders AS o JOIN cities AS c ON c.city = o.city "
                             "WHERE o.paid ORDER BY o.day", "sqlite", schema, db_path)
    assert df.values.tolist() == [["2026-01-01", "Norway"]]
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(gr.Error, match="not a readable Parquet file"):
        tiny_app.use_upload([str(tmp_path / "bad.parquet")])


@pytest.mark.parametrize("name,content,message", [("junk.db", b"not a database at all" * 10, "not a SQLite database"),
                                                  ("x.txt", b"hello", "either one SQLite file")])
def test_upload_rejects_junk(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_upload([tmp_path / name], max_mb=1)


def test_upload_size_cap(tmp_path):
    (tmp_path / "big.csv").write_text("a\n" + "1\n" * 600_000)
    with pytest.raises(InputError, match="limit is 1 MB"):
        load_upload([tmp_path / "big.csv"], max_mb=1)


def test_config_from_env():
    c = ServiceConfig.from_env({"BASE_MODEL": "a/b", "FT_MODEL": "", "MAX_QUESTION_CHARS": "42"})
    assert (c.base_model, c.ft_model, c.max_question_chars) == ("a/b", None, 42)
    with pytest.raises(ValueError, match="MAX_SCHEMA_CHARS must be an integer"):
        ServiceConfig.from_env({"MAX_SCHEMA_CHARS": "lots"})
    assert check_text("  hi ", "question", 10) == "hi"
    assert c.backend == "auto" and ServiceConfig.from_env({"BACKEND": "llama.cpp"}).backend == "llama.cpp"
    with pytest.raises(ValueError, match="BACKEND must be one of auto, transformers, llama.cpp, remote"):
        ServiceConfig.from_env({"BACKEND": "onnx"})
    assert c.constrain and not ServiceConfig.from_env({"CONSTRAIN": "0"}).constrain
    with pytest.raises(ValueError, match="CONSTRAIN must be 1 or 0"):
        ServiceConfig.from_env({"CONSTRAIN": "maybe"})


@pytest.mark.parametrize("flags,precision", [({"avx2", "fma"}, "float32"),  # AMD Zen 3
                                             ({"avx2", "avx512f", "avx512_bf16"}, "bfloat16"),  # AMD Zen 4
                                             ({"avx2", "avx512f", "amx_bf16"}, "bfloat16")])  # Sapphire Rapids
def test_the_page_and_the_badge_say_which_backend_answered(tiny_app, monkeypatch, flags, precision):
    from nl2sql import models

    # Each CPU kind's flags injected: the page shows what detection chose, whatever CPU runs the test.
    monkeypatch.setattr(models, "cpu_flags", lambda: frozenset(flags))
    tiny_app.pool.get("base")
    assert f"(loaded; transformers, {precision}, cpu)" in tiny_app.pool.status()
    *_, (sql, verdict) = tiny_app.generate_sql("How many employees?", SCHEMA, "sqlite")
    assert " · transformers · " in verdict


def test_an_unreachable_remote_backend_is_a_clear_message(tiny_model_dir, monkeypatch):
    config = ServiceConfig(base_model=str(tiny_model_dir), ft_model=None, backend="remote")
    monkeypatch.delenv("NL2SQL_REMOTE_URL", raising=False)
    with pytest.raises(gr.Error, match="needs a server URL"):
        list(app.App(config).generate_sql("How many employees?", SCHEMA, "sqlite"))


@pytest.fixture
def live(tiny_app):
    page = app.build(tiny_app)
    page.queue(max_size=64, default_concurrency_limit=8)
    _, url, _ = page.launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True)
    from gradio_client import Client

    yield Client(url, verbose=False)
    page.close()


def test_api_through_gradio_client(live):
    api = live.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/generate_sql", "/run_sql", "/validate_sql", "/compare"} <= set(api)
    sql, verdict = live.predict("How many employees?", SCHEMA, "sqlite", None, api_name="/generate_sql")
    assert "tokens/s" in verdict
    report, _, out = live.predict("SELECT a FROM t LIMIT 1", "sqlite", "tsql", "", api_name="/validate_sql")
    assert "valid sqlite" in report and "TOP 1" in out
    result, status = live.predict("SELECT COUNT(*) AS n FROM employees", "sqlite", SCHEMA, None, api_name="/run_sql")
    assert result["data"] == [[5]] and status.startswith("1 row in ")
    outs = live.predict("How many employees?", SCHEMA, "sqlite", None, api_name="/compare")
    assert len(outs) == 8
    with pytest.raises(Exception, match="Please enter a question"):
        live.predict("", SCHEMA, "sqlite", None, api_name="/generate_sql")
    with pytest.raises(Exception, match="binary"):
        live.predict("SELECT 1\x01", "sqlite", "postgres", "", api_name="/validate_sql")
    _, status = live.predict("ATTACH DATABASE 'x' AS y", "sqlite", SCHEMA, None, api_name="/run_sql")
    assert "refused" in status


def test_twenty_concurrent_requests_all_answered(live):
    def ask(i):
        return live.predict(f"How many employees earn more than {i}?", SCHEMA, "sqlite", None, api_name="/generate_sql")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(ask, range(20)))
    assert len(results) == 20 and all("tokens/s" in verdict for _, verdict in results)


def test_long_values_are_cut_with_a_marker_and_the_response_is_capped(tiny_app):
    df, status = tiny_app.run_sql("SELECT printf('%.*c', 900000, 'x') AS v", "sqlite", SCHEMA)
    assert df["v"][0].startswith("x" * 200 + "… [900,000 chars, cut]")
    many = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT printf('%.*c', 500000, 'x') FROM c"
    df, status = tiny_app.run_sql(many, "sqlite", SCHEMA)
    assert len(df) == 4 and "showing the first 2,000,000 bytes (NL2SQL_MAX_RESULT_BYTES)" in status


def _verdict(tiny_app, question, schema, *answers):
    from dataclasses import replace

    from tests.conftest import scripted

    # The scripted model streams a character per token: room for its whole answer.
    ui = app.App(replace(tiny_app.config, max_new_tokens=400), loader=lambda spec: scripted(list(answers)))
    return list(ui.generate_sql(question, schema, "sqlite"))[-1]


@pytest.mark.parametrize("sql,expected", [
    ("SELECT name FROM departments ORDER BY AVG(id) DESC LIMIT 1;", "❌ **valid sqlite, but it fails when run**: "),
    ("SELECT name FROM employees WHERE salary > 90000;", "✅ **runs** (sqlite): 2 rows in "),
    ("DROP TABLE employees;", "✅ **runs** (sqlite): done on a private copy: nothing was saved"),
])
def test_generated_sql_is_run_at_once_when_there_are_rows(tiny_app, sql, expected):
    _, verdict = _verdict(tiny_app, "q", SCHEMA, sql)
    assert verdict.startswith(expected)
    assert ("changes data: runs only on a private copy" in verdict) == sql.startswith("DROP")


def test_without_rows_the_verdict_says_it_was_not_run(tiny_app):
    ddl = SCHEMA.split("INSERT")[0]
    _, verdict = _verdict(tiny_app, "q", ddl, "SELECT name FROM employees;")
    assert verdict.startswith("✅ **valid sqlite** (not run: no rows to run it on)")


def test_the_verdict_says_why_an_answer_stopped_early(tiny_app):
    runaway = "SELECT id FROM employees WHERE id IN (" + "SELECT id FROM employees WHERE id IN (" * 8
    _, verdict = _verdict(tiny_app, "q", SCHEMA, runaway, runaway)  # steered, then free: both run away
    assert "stopped early: the model began repeating itself" in verdict


@pytest.mark.parametrize("flags,env,expected", [
    ((None, None), {}, ("0.0.0.0", 7860)),
    ((None, None), {"PORT": "8000", "HOST": "127.0.0.1"}, ("127.0.0.1", 8000)),
    ((None, None), {"PORT": "8000", "GRADIO_SERVER_PORT": "9000", "GRADIO_SERVER_NAME": "::1", "HOST": "x"},
     ("::1", 9000)),
    (("10.0.0.1", 7000), {"GRADIO_SERVER_PORT": "9000", "GRADIO_SERVER_NAME": "::1"}, ("10.0.0.1", 7000)),
])
def test_listen_address_precedence(flags, env, expected):
    assert app.listen_address(*flags, env=env) == expected


def test_a_bad_port_is_a_clear_error():
    with pytest.raises(ValueError, match="the port must be a number, got 'eighty'"):
        app.listen_address(None, None, env={"PORT": "eighty"})


def test_the_verdict_names_the_tables_shown_and_the_user_can_choose_them(tiny_app):
    from tests.test_link import SHOP

    _, verdict = _verdict(tiny_app, "Which products cost more than 10?", SHOP, "SELECT title FROM products;")
    assert "- shown " in verdict and " of 10 tables: " in verdict and "employees" not in verdict.split("tables: ")[1]
    from dataclasses import replace

    from tests.conftest import scripted

    lm = scripted(["SELECT carrier FROM shipments;"])
    ui = app.App(replace(tiny_app.config, max_new_tokens=400), loader=lambda spec: lm)
    *_, (sql, verdict) = ui.generate_sql("q", SHOP, "sqlite", None, "shipments, warehouses")
    assert "shown 2 of 10 tables: warehouses, shipments" in verdict and "customers(" not in lm.calls[0].prompt
    with pytest.raises(gr.Error, match="no such table in the schema: nowhere"):
        list(ui.generate_sql("q", SHOP, "sqlite", None, "nowhere"))


def test_thorough_voting_from_the_page(tiny_app):
    from tests.test_voting import LOW, TOP, TOP_TOO

    _, verdict = _verdict(tiny_app, "Who earns most?", SCHEMA, LOW, TOP, TOP_TOO)
    assert "✅ **runs**" in verdict and "1 of 1 answers agreed" not in verdict  # votes=1 by default: greedy
    from dataclasses import replace

    from tests.conftest import scripted

    ui = app.App(replace(tiny_app.config, max_new_tokens=400), loader=lambda spec: scripted([LOW, TOP, TOP_TOO]))
    *_, (sql, verdict) = ui.generate_sql("Who earns most?", SCHEMA, "sqlite", None, "", 3)
    assert " ".join(sql.split()) == TOP.rstrip(";") and "2 of 3 answers agreed" in verdict  # pretty-printed
    with pytest.raises(gr.Error, match="choose 1 to 8 samples, not 9"):
        list(ui.generate_sql("Who earns most?", SCHEMA, "sqlite", None, "", 9))


def test_your_database_from_database_url(tiny_app, tmp_path):
    """DATABASE_URL: "your database" is offered, its tables listed, questions answered from its own schema
    and run on it in its dialect; writes refused; the URL's password never shown."""
    import duckdb

    path = tmp_path / "shop.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, title VARCHAR, price DOUBLE)")
    conn.execute("INSERT INTO products VALUES (1, 'Pen', 2.5), (2, 'Desk', 120.0)")
    conn.close()
    from dataclasses import replace

    from tests.conftest import scripted

    lm = scripted(["SELECT title FROM products WHERE price > 10;", "DELETE FROM products;"])
    ui = app.App(replace(tiny_app.config, database_url=f"duckdb:///{path}", max_new_tokens=400), loader=lambda s: lm)
    schema, db, message, dialect = ui.choose_schema(app.YOUR_DATABASE)
    assert (schema, db, dialect) == ("", app.YOUR_DATABASE, "duckdb") and "1 tables: products" in message
    *_, (sql, verdict) = ui.generate_sql("Which products cost more than 10?", schema, dialect, db)
    assert " ".join(sql.split()) == "SELECT title FROM products WHERE price > 10" and verdict.startswith("✅ **runs** (duckdb): 1 row")
    assert "products(" in lm.calls[0].prompt
    *_, (_, verdict) = ui.generate_sql("Remove all products", schema, dialect, db)
    assert "only queries run on your database" in verdict and "refused: your database is only read" in verdict
    df, _ = ui.run_sql("SELECT COUNT(*) AS n FROM products", "duckdb", "", db)
    assert list(df["n"]) == [2]
    with pytest.raises(gr.Error, match="db must be 'your database' or the path of an upload"):
        ui.run_sql("SELECT 1", "sqlite", "", str(path))  # API callers cannot point the server elsewhere
    with pytest.raises(gr.Error, match="DATABASE_URL is not set"):
        tiny_app.run_sql("SELECT 1", "sqlite", "", app.YOUR_DATABASE)

    def offered(ui) -> bool:
        drop = [c for c in app.build(ui).config["components"] if c.get("props", {}).get("label") == "Example schema"]
        return app.YOUR_DATABASE in str(drop[0]["props"]["choices"])

    assert offered(ui) and not offered(tiny_app)
    secret = app.App(replace(tiny_app.config, database_url="postgresql://ana:pw-123@/nodb?host=/no/such/dir"))
    _, db, message, _ = secret.choose_schema(app.YOUR_DATABASE)
    assert db is None and message.startswith("❌ cannot connect to postgresql://ana:***@") and "pw-123" not in message
    assert "pw-123" not in repr(secret.config)
