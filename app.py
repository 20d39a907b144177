"""python app.py [--port 7860] [--host 0.0.0.0] [--base-model SPEC] [--ft-model SPEC] [--backend auto] [--mcp]

The nl2sql Gradio app: Generate SQL, Validate SQL, Compare base vs fine-tuned. Handlers (`App`) only
adapt the UI to nl2sql (pipeline, service); API names for gradio_client: generate_sql, run_sql, save_correction,
validate_sql, compare. Config from the environment (BASE_MODEL, FT_MODEL, BACKEND, MAX_*_CHARS, ...),
overridable by flags; the page is built from a config (`build(App(config))`), with no module state.
With DATABASE_URL set (a secret on a Space, a secure variable on Azure), "your database" joins the
example schemas: questions are answered from its own schema and run on it, read-only (nl2sql.database).
Listening address: --host/--port, then GRADIO_SERVER_NAME/GRADIO_SERVER_PORT, then HOST/PORT, then
0.0.0.0:7860.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import logging
import os
import threading
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pandas as pd

from nl2sql import chart
from nl2sql.backends import NAMES as BACKENDS
from nl2sql.backends.base import STOPS
from nl2sql.database import DatabaseError, open_database
from nl2sql.pipeline import Answer, Decoding, Request, answer, answer_stream, run_sql as run_request_sql
from nl2sql.feedback import FeedbackError, FeedbackStore, data_dir, record
from nl2sql.sandbox import RunResult, describe, shown
from nl2sql.schema import SchemaError
from nl2sql.service import (SQLITE_SUFFIXES, TABLE_SUFFIXES, UPLOAD_NAME, UPLOAD_PREFIX, InputError, ModelPool,
                            ServiceConfig, check_text, is_summary, load_upload, schema_box, show_upload,
                            validation_report)
from nl2sql.sql import DIALECTS, changes_data, pretty

log = logging.getLogger("nl2sql.app")
EXAMPLES = Path(__file__).resolve().parent / "examples"
SCHEMAS = {p.stem: p.read_text() for p in sorted(EXAMPLES.glob("*.sql"))}
APP_QUESTIONS = EXAMPLES / "app_questions.jsonl"  # the examples the app offers, with their gold SQL (eval --data it)
EXAMPLE_QUESTIONS = [[r["question"], SCHEMAS[Path(r["schema_file"]).stem]]
                     for r in map(json.loads, filter(str.strip, APP_QUESTIONS.read_text().splitlines()))]
MAX_VOTES = 8
YOUR_DATABASE = "your database"  # the schema choice (and the API's `db` value) for DATABASE_URL
EMPTY = pd.DataFrame({"": []})  # no result: an empty table (a column-less frame shows phantom headers 1 2 3)
HISTORY_KEPT = 10  # questions of this visit the "Asked before" list offers


def _shown(e: Exception) -> gr.Error:
    if isinstance(e, SchemaError):
        return gr.Error(f"Schema error: {e}")
    if isinstance(e, (InputError, ValueError)):
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


def headline(ans: Answer) -> str:
    """The verdict's first line: whether the SQL runs (when it was run) or only parses."""
    if not ans.validation.ok:
        return "❌ **invalid SQL**"
    if ans.result is None:
        return f"✅ **valid {ans.dialect}** (not run: no rows to run it on)"
    if not ans.result.ok:
        return f"❌ **valid {ans.dialect}, but it fails when run**: {ans.result.error}"
    return f"✅ **runs** ({ans.dialect}): {describe(ans.result)}"


def badge(ans: Answer, max_new_tokens: int) -> str:
    g = ans.generation
    speed = f"{g.new_tokens} tokens in {g.latency_s:.2f} s ({g.tokens_per_s:.0f} tokens/s)" if g else ""
    lines = [headline(ans)]
    lines += [f"- {e}" for e in ans.validation.errors] + [f"- ⚠️ {u}" for u in ans.unknown]
    if ans.changes_data:
        server = ans.result is not None and not ans.result.private
        lines.append("- ⚠️ changes data: " + ("refused: your database is only read" if server
                                               else "runs only on a private copy"))
    if ans.linking is not None and ans.linking.pruned:
        lines.append(f"- {ans.linking.describe()} (\"Tables to show\" chooses them)")
    if ans.requalified:
        lines.append(f"- qualifiers mended (no table of the query had them): {', '.join(ans.requalified)}")
    if ans.literals:
        lines.append(f"- values moved to the column that holds them: {', '.join(ans.literals)}")
    if g and g.stop in ("limit", "repetition"):
        why = STOPS[g.stop] + (f" ({max_new_tokens})" if g.stop == "limit" else "")
        lines.append(f"- ⚠️ stopped early: {why}")
    engine = f"{g.backend} · " if g else ""
    if ans.constrained:
        engine += "schema-constrained · "
    if ans.candidates_tried > 1:
        engine += f"{ans.candidates_tried} candidates tried ({ans.selection_s:.1f} s) · "
    if ans.votes:
        engine += f"{ans.votes[0]} of {ans.votes[1]} answers agreed · "
    lines.append(f"<sub>{ans.model_name} · {engine}{speed}</sub>")
    return "\n".join(lines)


def _cell(value):
    return shown(value) if isinstance(value, (str, bytes)) else value


def table(result: RunResult | None) -> pd.DataFrame:
    """A result as the page shows it: long values cut with a marker; no result or an error, an empty table."""
    if result is None or not result.ok or not result.columns:
        return EMPTY
    cols = [c if list(result.columns).count(c) == 1 else f"{c} ({i + 1})" for i, c in enumerate(result.columns)]
    return pd.DataFrame([[_cell(v) for v in row] for row in result.rows], columns=cols)


def _status(result: RunResult | None) -> str:
    if result is None:
        return ""
    return describe(result) if result.ok else f"❌ {result.error}"


def plots(columns: list[str], rows: list) -> tuple:
    """(bar chart, line chart) updates for a result: the one nl2sql.chart chooses shown, the other hidden."""
    hidden = gr.update(visible=False, value=None)
    pick = chart.choose(list(columns), list(rows))
    if pick is None:
        return hidden, hidden
    df = pd.DataFrame([list(r) for r in rows], columns=list(columns))[[pick.x, pick.y]]
    if pick.kind == "line":
        if df[pick.x].map(lambda v: isinstance(v, str)).any():
            df[pick.x] = pd.to_datetime(df[pick.x], errors="coerce", format="mixed")
        df = df.sort_values(pick.x)
    numbers = [v for v in df[pick.y] if v is not None and v == v]
    y_lim = [min([0, *numbers]), max([0, *numbers]) or 1]  # bars start at zero: a bar's height is its value
    shown = gr.update(value=df, x=pick.x, y=pick.y, x_title=pick.x, y_title=pick.y, y_lim=y_lim, visible=True)
    if pick.kind == "bar":
        return gr.update(**shown, sort=list(dict.fromkeys(df[pick.x]))), hidden  # bars in the result's order
    return hidden, shown


def frame_plots(frame: pd.DataFrame | None) -> tuple:
    """plots() for the result table as the page holds it (after Run)."""
    if frame is None or frame.empty:
        return plots([], [])
    rows = [[None if isinstance(v, float) and v != v else v for v in row] for row in frame.itertuples(index=False)]
    return plots(list(frame.columns), rows)


def remember(history: list[dict] | None, entry: dict, kept: int = HISTORY_KEPT) -> list[dict]:
    """This visit's questions, newest first: `entry` in front, an earlier ask of the same question on the
    same schema dropped, at most `kept`."""
    same = (entry["question"], entry["schema"], entry["db"])
    older = [h for h in history or [] if (h["question"], h["schema"], h["db"]) != same]
    return [entry, *older][:kept]


def same_sql(a: str, b: str, dialect: str) -> bool:
    """Whether two queries are the same text once pretty-printed alike (layout and keyword case aside)."""
    return " ".join(pretty(a, dialect).split()) == " ".join(pretty(b, dialect).split())


def history_choices(history: list[dict]) -> list[tuple[str, int]]:
    return [(f"{h['question']}  ({h['example'] or 'upload'})", i) for i, h in enumerate(history)]


def _dialect(d: str) -> str:
    if d not in DIALECTS:
        raise InputError(f"Unknown dialect {d!r}; choose one of {', '.join(DIALECTS)}.")
    return d


class App:
    """The app's handlers over one config and its model pool; `build(app)` lays them out as a Gradio page."""

    def __init__(self, config: ServiceConfig, loader=None):
        """`loader(spec) -> Backend` loads a model (default: nl2sql.backends.open_backend with the config's backend)."""
        self.config = config
        self.pool = ModelPool(config, loader)
        self.decoding = Decoding(max_new_tokens=config.max_new_tokens, constrain=config.constrain,
                                 candidates=config.candidates)
        self._feedback: FeedbackStore | None = None  # opened at the first saved correction

    def database(self, db: str | None) -> str | None:
        """The data a request may use: an upload this app made, or "your database" (DATABASE_URL). Any
        other path or URL is refused: API callers cannot point the server at files or hosts."""
        if not db:
            return None
        if db == YOUR_DATABASE:
            if not self.config.database_url:
                raise InputError("No database is connected: the server's DATABASE_URL is not set.")
            return self.config.database_url
        path = Path(db)
        if path.name == UPLOAD_NAME and path.parent.name.startswith(UPLOAD_PREFIX) and path.is_file():
            return str(path)
        raise InputError(f"db must be {YOUR_DATABASE!r} or the path of an upload made by this app.")

    def schema_text(self, schema: str, db: str | None) -> str:
        """The schema box's text as the request's schema: none when the box summarises the database's schema
        (the database's own is read then), else pasted text within the limit."""
        return "" if db and is_summary(schema) else check_text(schema, "schema", self.config.max_schema_chars)

    def request(self, question: str, schema: str, dialect: str, db: str | None, tables: str = "") -> Request:
        c = self.config
        question = check_text(question, "question", c.max_question_chars, required=True)
        schema = self.schema_text(schema, db)
        chosen = [t.strip() for t in check_text(tables, "table list", c.max_question_chars).split(",") if t.strip()]
        return Request(question, schema or None, _dialect(dialect), db=self.database(db), tables=chosen or None)

    @user_errors
    def ask(self, question: str, schema: str, dialect: str = "sqlite", db: str | None = None,
            tables: str = "", votes: int | None = None):
        """generate_sql's stream for the page: (SQL, verdict, the answer kept for the result, chart,
        history and corrections; None while writing)."""
        req = self.request(question, schema, dialect, db, tables)
        lm = self.pool.get("base" if not self.config.ft_model else "ft")
        votes = int(votes or self.config.votes)
        if not 1 <= votes <= MAX_VOTES:
            raise InputError(f"Thorough: choose 1 to {MAX_VOTES} samples, not {votes}.")
        for event in answer_stream(lm, req, replace(self.decoding, votes=votes)):
            if isinstance(event, Answer):
                kept = dict(question=req.question, schema=schema, dialect=dialect, db=db, sql=event.sql,
                            model=event.model_name, result=event.result)
                yield pretty(event.sql, dialect), badge(event, self.decoding.max_new_tokens), kept
            else:
                yield event.sql or event.text, "⏳ writing…", None

    def generate_sql(self, question: str, schema: str, dialect: str = "sqlite", db: str | None = None,
                     tables: str = "", votes: int | None = None):
        """Stream the SQL for a question (and optional schema) in the chosen dialect, then its verdict: valid,
        and, when the schema has rows or data was uploaded, whether it runs and how many rows it returned.
        `tables`: comma-separated tables to show the model (empty: schema linking chooses); `votes`: answers
        to generate and run, the most common result winning (1: greedy only). The final SQL is pretty-printed."""
        for sql, verdict, _ in self.ask(question, schema, dialect, db, tables, votes):
            yield sql, verdict

    def show_answer(self, kept: dict | None, history: list[dict] | None, example: str):
        """After an answer: its rows, chart, one-line SQL and this visit's history with the question added (the Run
        status cleared: the verdict above gives the rows and the time)."""
        if kept is None:
            return (gr.skip(),) * 7
        result = kept["result"]
        rows = (result.columns, result.rows) if result is not None and result.ok else ([], [])
        history = remember(history, {**{k: kept[k] for k in ("question", "schema", "dialect", "db", "sql")},
                                     "example": None if kept["db"] and kept["db"] != YOUR_DATABASE else example})
        return (table(result), "", *plots(*rows), kept["sql"], history,  # the verdict gives rows and time
                gr.update(choices=history_choices(history), value=None))

    def recall(self, index: int | None, history: list[dict] | None):
        """One of this visit's questions brought back: question, schema box, schema choice, dialect, db, SQL."""
        if index is None or not history or not 0 <= int(index) < len(history):
            return (gr.skip(),) * 6
        h = history[int(index)]
        return h["question"], h["schema"], h["example"] or gr.skip(), h["dialect"], h["db"], pretty(h["sql"], h["dialect"])

    @user_errors
    def run_sql(self, sql: str, dialect: str, schema: str, db: str | None = None):
        """Run a query (in `dialect`) on the schema's rows or the uploaded data; the result table and a status."""
        sql = check_text(sql, "SQL", self.config.max_sql_chars, required=True)
        schema = self.schema_text(schema, db)
        if not schema and not db:
            raise InputError("Add a schema (CREATE TABLE + INSERT rows) or upload data to run the query on.")
        result = run_request_sql(sql, Request("run", schema or None, _dialect(dialect), db=self.database(db)))
        return table(result), _status(result)

    @user_errors
    def validate_sql(self, sql: str, dialect: str = "sqlite", target: str = "postgres", schema: str = ""):
        """Check SQL: errors with line/column, pretty form, transpiled form, unknown tables/columns."""
        sql = check_text(sql, "SQL", self.config.max_sql_chars, required=True)
        schema = check_text(schema, "schema", self.config.max_schema_chars)
        rep = validation_report(sql, _dialect(dialect), _dialect(target), schema or None)
        head = f"✅ **valid {dialect}**" if rep.ok else "❌ **invalid " + dialect + "**"
        lines = [head] + [f"- {e}" for e in rep.errors] + [f"- transpile: {e}" for e in rep.transpile_errors]
        if rep.ok and changes_data(sql, dialect):
            lines.append("- ⚠️ changes data: runs only on a private copy")
        lines += [f"- ⚠️ {u}" for u in rep.unknown] or (["- all tables and columns exist"] if schema and rep.ok else [])
        return "\n".join(lines), rep.pretty, rep.transpiled

    def feedback_store(self) -> FeedbackStore:
        if not self.config.feedback:
            raise InputError("Saving corrections is turned off on this server (NL2SQL_FEEDBACK=0).")
        if self._feedback is None:
            self._feedback = FeedbackStore(Path(self.config.data_dir or data_dir()) / "feedback.sqlite")
        return self._feedback

    @user_errors
    def save_correction(self, question: str, schema: str, dialect: str = "sqlite", db: str | None = None,
                        model_sql: str = "", sql: str = "") -> str:
        """Keep a verdict on an answer as a training row (this server only): `sql` answers `question` (equal to
        `model_sql`: the model was right). Refused with the reason, nothing saved, when `sql` does not parse or,
        where there are rows, fails to run."""
        c = self.config
        question = check_text(question, "question", c.max_question_chars, required=True)
        model_sql = check_text(model_sql, "model's SQL", c.max_sql_chars, required=True)
        sql = check_text(sql, "SQL", c.max_sql_chars, required=True)
        store = self.feedback_store()
        right = same_sql(sql, model_sql, _dialect(dialect))
        try:  # the schema box's text; empty or a summary: the database's own DDL (never its URL or path)
            saved = record(store, question=question, schema=self.schema_text(schema, db), dialect=dialect,
                           model_sql=model_sql, sql=model_sql if right else sql, verdict="right" if right else "wrong",
                           model=c.ft_model or c.base_model, db=self.database(db))
        except FeedbackError as e:
            raise InputError(f"Not saved: {e}") from None
        what = "the model's answer as right" if saved.verdict == "right" else "your SQL as the right answer"
        return f"✅ Saved {what} (correction {saved.id}, kept on this server; `python -m nl2sql.feedback export`)."

    def mark(self, kept: dict | None, sql: str, right: bool) -> str:
        """The page's two buttons: the answer was right, or the SQL box (edited) holds the right answer."""
        if kept is None:
            raise gr.Error("Ask a question first.")
        if not right and same_sql(sql or "", kept["sql"], kept["dialect"]):
            raise gr.Error("Edit the SQL above into the one that answers the question (Run checks it), then save.")
        return self.save_correction(kept["question"], kept["schema"], kept["dialect"], kept["db"], kept["sql"],
                                    kept["sql"] if right else sql)

    def _compare_side(self, role: str, req: Request):
        try:
            lm = self.pool.get(role)
        except InputError as e:
            return f"**{role}**: {e}", "", "", EMPTY
        ans = answer(lm, req, self.decoding)
        return f"**{ans.model_name}**", ans.sql, badge(ans, self.decoding.max_new_tokens), table(ans.result)

    @user_errors
    def compare(self, question: str, schema: str, dialect: str = "sqlite", db: str | None = None):
        """The same question to the base and the fine-tuned model: name, SQL, status and result for each."""
        req = self.request(question, schema, dialect, db)
        req.run = bool(req.schema or req.db)
        return (*self._compare_side("base", req), *self._compare_side("ft", req))

    @user_errors
    def use_upload(self, files):
        """An uploaded SQLite file, or CSV/Parquet files -> (schema box: the schema, or its summary when larger
        than the box holds; private db path; message: what was loaded and how)."""
        paths = [f if isinstance(f, str) else f.name for f in (files or [])]
        up = load_upload(paths, self.config.max_upload_mb)
        box, message = show_upload(up, self.config.max_schema_chars)
        return box, str(up.db_path), message

    def choose_schema(self, name: str):
        """An example schema, or "your database" -> (schema text (for "your database": empty, or a summary when
        its schema is larger than the box holds), db, message listing its tables, dialect: the database's own
        for "your database", else left as it is)."""
        if name != YOUR_DATABASE:
            return SCHEMAS[name], None, "", gr.skip()
        try:
            db = open_database(self.database(YOUR_DATABASE))
            names = db.tables()
            ddl = db.schema() if names else ""
            box = "" if len(ddl) <= self.config.max_schema_chars else schema_box(ddl, self.config.max_schema_chars)
        except (InputError, DatabaseError, SchemaError) as e:
            return "", None, f"❌ {e}", gr.skip()
        shown = ", ".join(names[:40]) + (f" and {len(names) - 40} more" if len(names) > 40 else "")
        return box, YOUR_DATABASE, (f"Your database ({db.backend}, {len(names)} tables: {shown}). Questions are "
                                    f"answered from its own schema and run on it, read-only."), db.dialect

    def status_tick(self):
        text = self.pool.status()
        return text, gr.Timer(active="loading…" in text)

    def warm_up(self) -> None:
        """Load the models in the background at start-up so the first request does not pay for it."""
        for role in ("base", "ft"):
            try:
                self.pool.get(role)
            except InputError as e:
                log.warning("%s", e)


def ask_column(ui: App) -> dict:
    """The left column of Generate: question, schema (example, upload or your database), options, history."""
    c = {}
    c["question"] = gr.Textbox(label="Question", placeholder="How many employees are there?", max_lines=3)
    c["schema"] = gr.Code(label="Schema (CREATE TABLE, optionally INSERT rows)", language="sql",
                          value=SCHEMAS.get("company", ""), lines=10)
    with gr.Row():
        choices = list(SCHEMAS) + ([YOUR_DATABASE] if ui.config.database_url else [])
        c["example"] = gr.Dropdown(choices, label="Example schema", value="company")
        c["upload"] = gr.File(label="Or upload SQLite / CSV / TSV / Parquet", file_count="multiple",
                              file_types=list(SQLITE_SUFFIXES + TABLE_SUFFIXES))
    c["upload_msg"] = gr.Markdown()
    c["tables"] = gr.Textbox(label="Tables to show the model (comma-separated; empty: chosen by "
                                   "schema linking for large schemas)", value="", max_lines=1)
    c["votes"] = gr.Slider(1, MAX_VOTES, value=ui.config.votes, step=1,
                           label="Thorough: answers to generate and run (the most common result wins; "
                                 "needs rows; each one costs about the time of one answer)")
    c["recent"] = gr.Dropdown([], value=None, label="Asked before (this visit): choose one to bring it back")
    return c


def answer_column() -> dict:
    """The right column of Generate: the SQL, its verdict, the result rows and chart, Run, and the verdict a
    user gives (right, or the corrected SQL)."""
    c = {}
    c["dialect"] = gr.Dropdown(list(DIALECTS), value="sqlite", label="SQL dialect")
    c["go"] = gr.Button("Generate SQL", variant="primary")
    c["sql"] = gr.Code(label="SQL (pretty-printed; edit it and press Run)", language="sql", lines=6,
                       interactive=True, wrap_lines=True, elem_id="sql")
    with gr.Accordion("The SQL on one line", open=False):
        c["one_line"] = gr.Textbox(show_label=False, max_lines=1, interactive=False, buttons=["copy"])
    c["verdict"] = gr.Markdown()
    c["run_status"] = gr.Markdown()
    c["result"] = gr.Dataframe(label="Result", interactive=False, value=EMPTY, elem_id="result")
    c["bar"] = gr.BarPlot(visible=False, label="Chart", sort=None, elem_id="bar-chart")
    c["line"] = gr.LinePlot(visible=False, label="Chart", elem_id="line-chart")
    c["run"] = gr.Button("Run (the SQL as edited) on the schema's rows, the upload or your database")
    with gr.Accordion("Right or wrong? Your verdict becomes a training row (kept on this server)", open=False):
        with gr.Row():
            c["right"] = gr.Button("👍 The answer is right")
            c["wrong"] = gr.Button("✏️ Save the SQL above (as edited) as the right answer")
        c["feedback_msg"] = gr.Markdown()
    gr.DeepLinkButton()
    return c


def generate_tab(ui: App, db_state: gr.State, model_call: dict) -> None:
    """The Generate SQL tab: ask, see the SQL, its rows and chart at once; correct it; ask again."""
    kept, history = gr.State(None), gr.State([])
    with gr.Row():
        with gr.Column(scale=3):
            a = ask_column(ui)
        with gr.Column(scale=2):
            b = answer_column()
    gr.Examples(EXAMPLE_QUESTIONS, inputs=[a["question"], a["schema"]])
    a["example"].input(ui.choose_schema, a["example"], [a["schema"], db_state, a["upload_msg"], b["dialect"]],
                       api_visibility="private")
    a["upload"].upload(ui.use_upload, a["upload"], [a["schema"], db_state, a["upload_msg"]], api_visibility="private")
    asked = [a["question"], a["schema"], b["dialect"], db_state, a["tables"], a["votes"]]
    shown = [b["sql"], b["verdict"], kept]
    after = dict(fn=ui.show_answer, inputs=[kept, history, a["example"]], api_visibility="private",
                 outputs=[b["result"], b["run_status"], b["bar"], b["line"], b["one_line"], history, a["recent"]])
    b["go"].click(ui.ask, asked, shown, api_name="generate_sql", **model_call).then(**after)
    a["question"].submit(ui.ask, asked, shown, api_visibility="private", **model_call).then(**after)
    b["run"].click(ui.run_sql, [b["sql"], b["dialect"], a["schema"], db_state], [b["result"], b["run_status"]],
                   api_name="run_sql").then(frame_plots, b["result"], [b["bar"], b["line"]], api_visibility="private")
    a["recent"].input(ui.recall, [a["recent"], history], [a["question"], a["schema"], a["example"], b["dialect"],
                                                          db_state, b["sql"]], api_visibility="private")
    b["right"].click(functools.partial(ui.mark, right=True), [kept, b["sql"]], b["feedback_msg"],
                     api_visibility="private")
    b["wrong"].click(functools.partial(ui.mark, right=False), [kept, b["sql"]], b["feedback_msg"],
                     api_visibility="private")
    gr.api(ui.save_correction, api_name="save_correction")


def validate_tab(ui: App) -> None:
    """The Validate SQL tab: errors with line/column, the pretty query, the query in a second dialect."""
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
    v_go.click(ui.validate_sql, [v_sql, v_dialect, v_target, v_schema], [v_report, v_pretty, v_out],
               api_name="validate_sql", concurrency_limit=None)


def compare_tab(ui: App, db_state: gr.State, model_call: dict) -> None:
    """The Compare tab: one question to the base and the fine-tuned model, side by side."""
    c_question = gr.Textbox(label="Question", value="Which department has the highest average salary?")
    c_schema = gr.Code(label="Schema", language="sql", value=SCHEMAS.get("company", ""), lines=8)
    c_dialect = gr.Dropdown(list(DIALECTS), value="sqlite", label="SQL dialect")
    c_go = gr.Button("Compare base and fine-tuned", variant="primary")
    outs = []
    with gr.Row():
        for side in ("Base", "Fine-tuned"):
            with gr.Column():
                outs += [gr.Markdown(f"**{side}**"), gr.Code(label="SQL", language="sql"), gr.Markdown(),
                         gr.Dataframe(label="Result", interactive=False, value=EMPTY)]
    gr.Examples(EXAMPLE_QUESTIONS, inputs=[c_question, c_schema])
    gr.DeepLinkButton()
    c_go.click(ui.compare, [c_question, c_schema, c_dialect, db_state], outs, api_name="compare", **model_call)


def build(ui: App) -> gr.Blocks:
    """The page: Generate / Validate / Compare tabs wired to `ui`'s handlers (API names for gradio_client)."""
    model_call = dict(concurrency_limit=ui.config.model_calls, concurrency_id="model")
    with gr.Blocks(title="nl2sql") as demo:
        gr.Markdown("# nl2sql\nAsk a question in plain English, get SQL you can check and run. "
                    "A small model (SmolLM2-135M) on CPU: check its SQL before you trust it.")
        status = gr.Markdown(ui.pool.status(), elem_id="model-status")
        db_state = gr.State(None)
        with gr.Tab("Generate SQL"):
            generate_tab(ui, db_state, model_call)
        with gr.Tab("Validate SQL"):
            validate_tab(ui)
        with gr.Tab("Compare"):
            compare_tab(ui, db_state, model_call)
        timer = gr.Timer(3)
        timer.tick(ui.status_tick, None, [status, timer], api_visibility="private")
    return demo


def listen_address(host: str | None, port: int | None, env=None) -> tuple[str, int]:
    """Where the server listens: flags, then GRADIO_SERVER_NAME/PORT, then HOST/PORT, then 0.0.0.0:7860."""
    env = os.environ if env is None else env
    host = host or env.get("GRADIO_SERVER_NAME") or env.get("HOST") or "0.0.0.0"
    raw = port if port is not None else env.get("GRADIO_SERVER_PORT") or env.get("PORT") or 7860
    try:
        return host, int(raw)
    except ValueError as e:
        raise ValueError(f"the port must be a number, got {raw!r} (GRADIO_SERVER_PORT or PORT)") from e


# What `gradio app.py` and a Hugging Face Space serve: the page built from the environment's config.
demo = build(App(ServiceConfig.from_env()))


def main(argv: list[str] | None = None) -> None:
    config = ServiceConfig.from_env()
    p = argparse.ArgumentParser(description="Run the nl2sql app.")
    p.add_argument("--host", default=None, help="default: GRADIO_SERVER_NAME, else HOST, else 0.0.0.0")
    p.add_argument("--port", type=int, default=None, help="default: GRADIO_SERVER_PORT, else PORT, else 7860")
    p.add_argument("--base-model", default=config.base_model)
    p.add_argument("--ft-model", default=config.ft_model)
    p.add_argument("--backend", default=config.backend, choices=BACKENDS,
                   help="generation engine (auto: llama.cpp on a CPU when installed, else transformers)")
    p.add_argument("--mcp", action="store_true", help="also serve the API as MCP tools (needs gradio[mcp])")
    args = p.parse_args(argv)
    host, port = listen_address(args.host, args.port)
    ui = App(replace(config, base_model=args.base_model, ft_model=args.ft_model or None, backend=args.backend))
    logging.basicConfig(level=logging.INFO)
    threading.Thread(target=ui.warm_up, daemon=True).start()
    page = build(ui)
    page.queue(max_size=ui.config.queue_size, default_concurrency_limit=8)
    page.launch(server_name=host, server_port=port, mcp_server=args.mcp, show_error=True)


if __name__ == "__main__":
    main()
