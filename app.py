"""python app.py [--port 7860] [--host 0.0.0.0] [--base-model SPEC] [--ft-model SPEC] [--backend auto] [--mcp]

The nl2sql Gradio app: Generate SQL, Validate SQL, Compare base vs fine-tuned. Handlers only adapt
the UI to nl2sql (pipeline, service); API names for gradio_client: generate_sql, run_sql,
validate_sql, compare. Config from the environment (BASE_MODEL, FT_MODEL, BACKEND, MAX_*_CHARS, PORT, ...),
overridable by flags.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import logging
import os
import threading
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pandas as pd

from nl2sql.backends import NAMES as BACKENDS
from nl2sql.pipeline import Answer, Request, answer, answer_stream
from nl2sql.sandbox import RunResult, run
from nl2sql.schema import SchemaError
from nl2sql.service import InputError, ModelPool, ServiceConfig, check_text, load_upload, validation_report
from nl2sql.sql import DIALECTS, transpile

log = logging.getLogger("nl2sql.app")
EXAMPLES = Path(__file__).resolve().parent / "examples"
SCHEMAS = {p.stem: p.read_text() for p in sorted(EXAMPLES.glob("*.sql"))}
EXAMPLE_QUESTIONS = [["Which department has the highest average salary?", SCHEMAS.get("company", "")],
                     ["How many books has each author written?", SCHEMAS.get("library", "")],
                     ["What is the total quantity ordered per product category?", SCHEMAS.get("shop", "")],
                     ["List the names of employees hired after 2020.", SCHEMAS.get("company", "")]]
CONFIG = ServiceConfig.from_env()
POOL = ModelPool(CONFIG)


def _shown(e: Exception) -> gr.Error:
    if isinstance(e, (InputError, SchemaError, ValueError)):
        return gr.Error(str(e))
    log.exception("handler failed")
    return gr.Error(f"Something went wrong ({type(e).__name__}); the server log has the details.")


def user_errors(fn):
    """Show InputError/SchemaError messages as they are; anything else as a short message, logged in full.
    No stack trace reaches the user."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def stream(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as e:  # noqa: BLE001 - the boundary
                raise _shown(e) from None
        return stream

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as e:  # noqa: BLE001 - the boundary
            raise _shown(e) from None
    return call


def badge(ans: Answer) -> str:
    g = ans.generation
    speed = f"{g.new_tokens} tokens in {g.latency_s:.2f} s ({g.tokens_per_s:.0f} tokens/s)" if g else ""
    lines = [f"✅ **valid {ans.dialect}**" if ans.validation.ok else "❌ **invalid SQL**"]
    lines += [f"- {e}" for e in ans.validation.errors] + [f"- ⚠️ {u}" for u in ans.unknown]
    if ans.result is not None:
        lines.append(f"- runs: {'yes' if ans.result.ok else 'no: ' + (ans.result.error or '')}")
    engine = f"{g.backend} · " if g else ""
    if ans.constrained:
        engine += "schema-constrained · "
    if ans.candidates_tried > 1:
        engine += f"{ans.candidates_tried} candidates tried ({ans.selection_s:.1f} s) · "
    lines.append(f"<sub>{ans.model_name} · {engine}{speed}</sub>")
    return "\n".join(lines)


def table(result: RunResult | None) -> pd.DataFrame:
    if result is None or not result.ok or not result.columns:
        return pd.DataFrame()
    cols = [c if list(result.columns).count(c) == 1 else f"{c} ({i + 1})" for i, c in enumerate(result.columns)]
    return pd.DataFrame(result.rows, columns=cols)


def _request(question: str, schema: str, dialect: str, db: str | None, run_it: bool = False) -> Request:
    question = check_text(question, "question", CONFIG.max_question_chars, required=True)
    schema = check_text(schema, "schema", CONFIG.max_schema_chars)
    if dialect not in DIALECTS:
        raise InputError(f"Unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}.")
    return Request(question, schema or None, dialect, run_it, db or None)


@user_errors
def generate_sql(question: str, schema: str, dialect: str = "sqlite", db: str | None = None):
    """Stream the SQL for a question (and optional schema) in the chosen dialect, then its validity."""
    req = _request(question, schema, dialect, db)
    lm = POOL.get("base" if not CONFIG.ft_model else "ft")
    for event in answer_stream(lm, req, CONFIG.max_new_tokens, CONFIG.candidates, CONFIG.constrain):
        if isinstance(event, Answer):
            yield event.sql, badge(event)
        else:
            yield event.sql or event.text, "⏳ writing…"


@user_errors
def run_sql(sql: str, dialect: str, schema: str, db: str | None = None):
    """Run a query (in `dialect`) on the schema's rows or the uploaded data; the result table and a status."""
    sql = check_text(sql, "SQL", CONFIG.max_sql_chars, required=True)
    schema = check_text(schema, "schema", CONFIG.max_schema_chars)
    if not schema and not db:
        raise InputError("Add a schema (CREATE TABLE + INSERT rows) or upload data to run the query on.")
    sqlite_sql, errors = transpile(sql, dialect, "sqlite")
    if errors:
        raise InputError(f"The SQL does not parse as {dialect}: {errors[0]}")
    result = run(sqlite_sql, db_path=db) if db else run(sqlite_sql, schema=schema)
    status = (f"{len(result.rows)}{'+' if result.truncated else ''} rows in {result.seconds * 1000:.0f} ms"
              if result.ok else f"❌ {result.error}")
    return table(result), status


@user_errors
def validate_sql(sql: str, dialect: str = "sqlite", target: str = "postgres", schema: str = ""):
    """Check SQL: errors with line/column, pretty form, transpiled form, unknown tables/columns."""
    sql = check_text(sql, "SQL", CONFIG.max_sql_chars, required=True)
    schema = check_text(schema, "schema", CONFIG.max_schema_chars)
    for d in (dialect, target):
        if d not in DIALECTS:
            raise InputError(f"Unknown dialect {d!r}; choose one of {', '.join(DIALECTS)}.")
    rep = validation_report(sql, dialect, target, schema or None)
    head = f"✅ **valid {dialect}**" if rep.ok else "❌ **invalid " + dialect + "**"
    lines = [head] + [f"- {e}" for e in rep.errors] + [f"- transpile: {e}" for e in rep.transpile_errors]
    lines += [f"- ⚠️ {u}" for u in rep.unknown] or (["- all tables and columns exist"] if schema and rep.ok else [])
    return "\n".join(lines), rep.pretty, rep.transpiled


def _compare_side(role: str, req: Request):
    try:
        lm = POOL.get(role)
    except InputError as e:
        return f"**{role}**: {e}", "", "", pd.DataFrame()
    ans = answer(lm, req.question, req.schema, req.dialect, req.run, req.db, CONFIG.max_new_tokens, CONFIG.candidates,
                 CONFIG.constrain)
    return f"**{ans.model_name}**", ans.sql, badge(ans), table(ans.result)


@user_errors
def compare(question: str, schema: str, dialect: str = "sqlite", db: str | None = None):
    """The same question to the base and the fine-tuned model: name, SQL, status and result for each."""
    req = _request(question, schema, dialect, db, run_it=bool(schema or db))
    return (*_compare_side("base", req), *_compare_side("ft", req))


@user_errors
def use_upload(files):
    """An uploaded SQLite file or CSVs -> (schema text, private db path, message)."""
    paths = [f if isinstance(f, str) else f.name for f in (files or [])]
    up = load_upload(paths, CONFIG.max_upload_mb)
    return up.schema, str(up.db_path), f"Loaded {len(up.tables)} table(s): {', '.join(up.tables)}. Run uses this data."


def status_tick():
    text = POOL.status()
    return text, gr.Timer(active="loading…" in text)


def build() -> gr.Blocks:
    model_call = dict(concurrency_limit=CONFIG.concurrency, concurrency_id="model")
    with gr.Blocks(title="nl2sql") as demo:
        gr.Markdown("# nl2sql\nAsk a question in plain English, get SQL you can check and run. "
                    "A small model (SmolLM2-135M) on CPU: check its SQL before you trust it.")
        status = gr.Markdown(POOL.status(), elem_id="model-status")
        db_state = gr.State(None)
        with gr.Tab("Generate SQL"):
            with gr.Row():
                with gr.Column(scale=3):
                    question = gr.Textbox(label="Question", placeholder="How many employees are there?", max_lines=3)
                    schema = gr.Code(label="Schema (CREATE TABLE, optionally INSERT rows)", language="sql",
                                     value=SCHEMAS.get("company", ""), lines=10)
                    with gr.Row():
                        example = gr.Dropdown(list(SCHEMAS), label="Example schema", value="company")
                        upload = gr.File(label="Or upload SQLite / CSV", file_count="multiple",
                                         file_types=[".sqlite", ".db", ".sqlite3", ".csv"])
                    upload_msg = gr.Markdown()
                with gr.Column(scale=2):
                    dialect = gr.Dropdown(list(DIALECTS), value="sqlite", label="SQL dialect")
                    go = gr.Button("Generate SQL", variant="primary")
                    sql = gr.Code(label="SQL", language="sql", lines=6, interactive=True)
                    verdict = gr.Markdown()
                    run_btn = gr.Button("Run on the schema")
                    run_status = gr.Markdown()
                    result = gr.Dataframe(label="Result", interactive=False, value=pd.DataFrame({"": []}))
                    gr.DeepLinkButton()
            gr.Examples(EXAMPLE_QUESTIONS, inputs=[question, schema])
            example.change(lambda name: (SCHEMAS[name], None, ""), example, [schema, db_state, upload_msg],
                           api_visibility="private")
            upload.upload(use_upload, upload, [schema, db_state, upload_msg], api_visibility="private")
            go.click(generate_sql, [question, schema, dialect, db_state], [sql, verdict], api_name="generate_sql",
                     **model_call)
            question.submit(generate_sql, [question, schema, dialect, db_state], [sql, verdict],
                            api_visibility="private", **model_call)
            run_btn.click(run_sql, [sql, dialect, schema, db_state], [result, run_status], api_name="run_sql")
        with gr.Tab("Validate SQL"):
            with gr.Row():
                with gr.Column():
                    v_sql = gr.Code(label="SQL", language="sql", lines=8, interactive=True)
                    with gr.Row():
                        v_dialect = gr.Dropdown(list(DIALECTS), value="sqlite", label="Dialect of the SQL")
                        v_target = gr.Dropdown(list(DIALECTS), value="postgres", label="Transpile to")
                    v_schema = gr.Code(label="Schema (optional: checks tables and columns)", language="sql", lines=6)
                    v_go = gr.Button("Validate", variant="primary")
                with gr.Column():
                    v_report = gr.Markdown()
                    v_pretty = gr.Code(label="Pretty", language="sql")
                    v_out = gr.Code(label="Transpiled", language="sql")
            v_go.click(validate_sql, [v_sql, v_dialect, v_target, v_schema], [v_report, v_pretty, v_out],
                       api_name="validate_sql", concurrency_limit=None)
        with gr.Tab("Compare"):
            c_question = gr.Textbox(label="Question", value="Which department has the highest average salary?")
            c_schema = gr.Code(label="Schema", language="sql", value=SCHEMAS.get("company", ""), lines=8)
            c_dialect = gr.Dropdown(list(DIALECTS), value="sqlite", label="SQL dialect")
            c_go = gr.Button("Compare base and fine-tuned", variant="primary")
            outs = []
            with gr.Row():
                for side in ("Base", "Fine-tuned"):
                    with gr.Column():
                        outs += [gr.Markdown(f"**{side}**"), gr.Code(label="SQL", language="sql"), gr.Markdown(),
                                 gr.Dataframe(label="Result", interactive=False, value=pd.DataFrame({"": []}))]
            gr.Examples(EXAMPLE_QUESTIONS, inputs=[c_question, c_schema])
            gr.DeepLinkButton()
            c_go.click(compare, [c_question, c_schema, c_dialect, db_state], outs, api_name="compare", **model_call)
        timer = gr.Timer(3)
        timer.tick(status_tick, None, [status, timer], api_visibility="private")
    return demo


demo = build()


def warm_up() -> None:
    """Load the models in the background at start-up so the first request does not pay for it."""
    for role in ("base", "ft"):
        try:
            POOL.get(role)
        except InputError as e:
            log.warning("%s", e)


def main(argv: list[str] | None = None) -> None:
    global CONFIG
    p = argparse.ArgumentParser(description="Run the nl2sql app.")
    p.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    p.add_argument("--port", type=int, default=CONFIG.port)
    p.add_argument("--base-model", default=CONFIG.base_model)
    p.add_argument("--ft-model", default=CONFIG.ft_model)
    p.add_argument("--backend", default=CONFIG.backend, choices=BACKENDS,
                   help="generation engine (auto: llama.cpp on a CPU when installed, else transformers)")
    p.add_argument("--mcp", action="store_true", help="also serve the API as MCP tools (needs gradio[mcp])")
    args = p.parse_args(argv)
    CONFIG = replace(CONFIG, base_model=args.base_model, ft_model=args.ft_model or None, port=args.port,
                     backend=args.backend)
    POOL.config = CONFIG
    logging.basicConfig(level=logging.INFO)
    threading.Thread(target=warm_up, daemon=True).start()
    demo.queue(max_size=CONFIG.queue_size, default_concurrency_limit=8)
    demo.launch(server_name=args.host, server_port=args.port, mcp_server=args.mcp, show_error=True)


if __name__ == "__main__":
    main()
