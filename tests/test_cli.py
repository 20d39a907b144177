import pytest

from nl2sql.__main__ import main
from tests.conftest import EXAMPLES

SCHEMA = str(EXAMPLES / "company.sql")


@pytest.mark.parametrize("argv,message", [
    (["  "], "the question is empty"),
    (["q", "--schema", "/no/such/file.sql"], "schema file not found"),
    (["q", "--db", "/no/such.sqlite"], "database file not found"),
    (["q", "--run"], "--run needs --schema or --db"),
    (["q", "--db", "duckdb:///no/such.duckdb"], "no such DuckDB file"),
    (["q", "--db", "postgresql://ana:pw-9@/shop?host=/no/such/dir"], "cannot connect to postgresql://ana:***@"),
])
def test_bad_input_is_one_line_and_status_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_bad_ddl(capsys, tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE (id INT")
    assert main(["q", "--schema", str(bad)]) == 2
    assert "schema does not parse" in capsys.readouterr().err


def test_unknown_model_is_status_3(capsys):
    assert main(["q", "--model", "not-a-model"]) == 3
    assert "use one of" in capsys.readouterr().err


def test_answers_with_a_local_model(capsys, tiny_model_dir):
    rc = main(["How many employees?", "--schema", SCHEMA, "--model", str(tiny_model_dir), "--max-new-tokens", "5",
               "--verbose", "--backend", "transformers"])
    out, err = capsys.readouterr()
    assert rc in (0, 1) and out.strip().endswith(";") and "prompt +" in err


def test_says_which_backend_answered(capsys, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("NL2SQL_CACHE", str(tmp_path))
    rc = main(["How many employees?", "--schema", SCHEMA, "--model", str(tiny_model_dir), "--max-new-tokens", "5",
               "--verbose", "--backend", "llama.cpp"])
    err = capsys.readouterr().err
    assert rc in (0, 1) and "· llama.cpp, GGUF F16" in err and "(llama.cpp; schema-constrained);" in err
    main(["How many employees?", "--schema", SCHEMA, "--model", str(tiny_model_dir), "--max-new-tokens", "5",
          "--verbose", "--backend", "llama.cpp", "--no-constrain"])
    assert "(llama.cpp);" in capsys.readouterr().err


def test_remote_backend_without_a_server_is_status_3(capsys, tiny_model_dir, monkeypatch):
    monkeypatch.delenv("NL2SQL_REMOTE_URL", raising=False)
    assert main(["q", "--model", str(tiny_model_dir), "--backend", "remote"]) == 3
    assert "needs a server URL" in capsys.readouterr().err


def test_answers_and_runs_on_a_duckdb_url(capsys, tmp_path, monkeypatch):
    """--db with a database URL: its schema is read from it, the SQL is printed in its dialect and run there."""
    import duckdb

    import nl2sql.backends
    from tests.conftest import scripted

    path = tmp_path / "shop.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, title VARCHAR, price DOUBLE)")
    conn.execute("INSERT INTO products VALUES (1, 'Pen', 2.5), (2, 'Desk', 120.0)")
    conn.close()
    lm = scripted(['SELECT title FROM products WHERE title LIKE "%desk%";'])
    monkeypatch.setattr(nl2sql.backends, "open_backend", lambda *a, **k: lm)
    rc = main(["Which products are desks?", "--db", f"duckdb:///{path}", "--run", "--verbose"])
    out, err = capsys.readouterr()
    assert rc == 0 and "products(" in lm.calls[0].prompt
    assert out.startswith("SELECT title FROM products WHERE title ILIKE '%desk%';") and "Desk" in out
    assert "-- 1 row in" in out


def test_cli_and_evaluation_share_one_set_of_decoding_flags():
    """One definition (nl2sql.flags): the same flags, spellings and defaults in both command lines."""
    from eval.evaluate import parse_args as eval_args
    from nl2sql.__main__ import parse_args as cli_args
    from nl2sql.pipeline import Decoding

    flags = ["--max-new-tokens", "7", "--max_new_tokens", "9", "--no-constrain", "--votes", "3", "--infer-keys"]
    cli = cli_args(["q", *flags])
    ev = eval_args(["--model", "m", "--data", "d", "--out", "o", *flags])
    assert Decoding.from_args(cli) == Decoding.from_args(ev)
    assert Decoding.from_args(cli) == Decoding(max_new_tokens=9, constrain=False, votes=3, infer_keys=True)
    assert Decoding.from_args(cli_args(["q"])) == Decoding.from_args(eval_args(["--model", "m", "--data", "d",
                                                                               "--out", "o"])) == Decoding()
