"""LLM-as-judge through the openai package: Azure OpenAI, OpenAI, or any compatible server.

The judge sees the question, the schema, the gold SQL and the prediction, and answers with JSON:
{"verdict": "correct" | "incomplete" | "irrelevant" | "logic_error", "explanation": "..."}.
Verdicts are cached on disk by a hash of (model, messages), so a rerun costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

VERDICTS = ("correct", "incomplete", "irrelevant", "logic_error")
DEFAULT_MODEL = "o4-mini"
DEFAULT_API_VERSION = "2024-12-01-preview"
SYSTEM = ("You grade SQL written by a text-to-SQL model. Compare the predicted SQL with the question, the "
          "schema and a gold SQL (one correct answer; others may exist). Reply with JSON only: "
          '{"verdict": "correct" | "incomplete" | "irrelevant" | "logic_error", "explanation": "<one sentence>"}. '
          "correct: returns what the question asks on any data; incomplete: misses part of the request; "
          "irrelevant: answers another question; logic_error: wrong joins, filters, grouping or syntax.")


class JudgeUnavailable(RuntimeError):
    """No credentials or endpoint for a judge."""


@dataclass
class Verdict:
    verdict: str | None  # None when the judge's reply could not be read
    explanation: str
    cached: bool = False
    usage: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "explanation": self.explanation, "cached": self.cached, "usage": self.usage}


def make_client(env: Mapping[str, str] | None = None, timeout: float = 60.0):
    """(client, default model, provider label) from the environment; JudgeUnavailable says what to set."""
    import openai

    env = os.environ if env is None else env
    if env.get("AZURE_OPENAI_ENDPOINT"):
        if not env.get("AZURE_OPENAI_API_KEY"):
            raise JudgeUnavailable("AZURE_OPENAI_ENDPOINT is set but AZURE_OPENAI_API_KEY is not")
        client = openai.AzureOpenAI(azure_endpoint=env["AZURE_OPENAI_ENDPOINT"], api_key=env["AZURE_OPENAI_API_KEY"],
                                    api_version=env.get("OPENAI_API_VERSION", DEFAULT_API_VERSION),
                                    timeout=timeout, max_retries=0)
        return client, env.get("AZURE_OPENAI_DEPLOYMENT", DEFAULT_MODEL), "azure"
    if env.get("OPENAI_BASE_URL"):
        client = openai.OpenAI(base_url=env["OPENAI_BASE_URL"], api_key=env.get("OPENAI_API_KEY") or "not-needed",
                               timeout=timeout, max_retries=0)
        return client, env.get("JUDGE_MODEL", DEFAULT_MODEL), "compatible"
    if env.get("OPENAI_API_KEY"):
        client = openai.OpenAI(api_key=env["OPENAI_API_KEY"], timeout=timeout, max_retries=0)
        return client, env.get("JUDGE_MODEL", DEFAULT_MODEL), "openai"
    raise JudgeUnavailable("no judge configured: set AZURE_OPENAI_ENDPOINT + AZURE_OPENAI_API_KEY (+ OPENAI_API_VERSION, "
                           "AZURE_OPENAI_DEPLOYMENT), or OPENAI_API_KEY, or OPENAI_BASE_URL for a compatible server")


def is_reasoning_model(model: str) -> bool:
    """o1/o3/o4-mini and gpt-5 take max_completion_tokens and no temperature."""
    return bool(re.match(r"^(o\d|gpt-5)", model.split("/")[-1]))


def request_params(model: str, max_tokens: int = 400) -> dict:
    if is_reasoning_model(model):
        return {"max_completion_tokens": max_tokens * 8}  # reasoning tokens count against the cap
    return {"temperature": 0, "max_tokens": max_tokens}


def build_messages(question: str, schema: str | None, gold: str, predicted: str) -> list[dict]:
    user = (f"Question: {question}\n\nSchema:\n{schema or '(not given)'}\n\nGold SQL:\n{gold}\n\n"
            f"Predicted SQL:\n{predicted or '(empty)'}")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def parse_verdict(text: str) -> tuple[str | None, str]:
    """(verdict, explanation) from the judge's reply; (None, reason) when it is not the JSON asked for."""
    match = re.search(r"\{.*\}", text or "", re.DOTALL)
    try:
        data = json.loads(match.group(0)) if match else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or data.get("verdict") not in VERDICTS:
        return None, f"unreadable judge reply: {(text or '')[:200]!r}"
    return data["verdict"], str(data.get("explanation", ""))


class Judge:
    """Grades predictions; retries with backoff; caches verdicts in a JSONL file; counts tokens."""

    def __init__(self, client, model: str, cache_path: str | Path | None = None, max_retries: int = 4,
                 backoff_s: float = 1.0, sleep: Callable[[float], None] = time.sleep):
        self.client, self.model, self.max_retries, self.backoff_s, self.sleep = client, model, max_retries, backoff_s, sleep
        self.cache_path = Path(cache_path) if cache_path else None
        self.cache: dict[str, dict] = {}
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0}
        self._lock = threading.Lock()
        if self.cache_path and self.cache_path.is_file():
            for line in self.cache_path.read_text().splitlines():
                item = json.loads(line)
                self.cache[item["key"]] = item

    def _key(self, messages: list[dict]) -> str:
        return hashlib.sha256(json.dumps([self.model, messages], sort_keys=True).encode()).hexdigest()

    def _call(self, messages: list[dict]):
        import openai

        retryable = (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError)
        for attempt in range(self.max_retries + 1):
            try:
                return self.client.chat.completions.create(model=self.model, messages=messages,
                                                           **request_params(self.model))
            except retryable:
                if attempt == self.max_retries:
                    raise
                self.sleep(self.backoff_s * 2 ** attempt)

    def judge(self, question: str, schema: str | None, gold: str, predicted: str) -> Verdict:
        messages = build_messages(question, schema, gold, predicted)
        key = self._key(messages)
        if key in self.cache:
            item = self.cache[key]
            return Verdict(item["verdict"], item["explanation"], cached=True)
        import openai

        try:
            resp = self._call(messages)
        except openai.OpenAIError as e:
            return Verdict(None, f"judge call failed: {type(e).__name__}: {e}")
        text = resp.choices[0].message.content or ""
        usage = {"prompt_tokens": getattr(resp.usage, "prompt_tokens", 0) or 0,
                 "completion_tokens": getattr(resp.usage, "completion_tokens", 0) or 0}
        verdict, explanation = parse_verdict(text)
        with self._lock:
            self.usage["calls"] += 1
            for k, v in usage.items():
                self.usage[k] += v
            if verdict is not None and self.cache_path:  # unreadable replies are retried on the next run
                item = {"key": key, "verdict": verdict, "explanation": explanation}
                self.cache[key] = item
                with self.cache_path.open("a") as f:
                    f.write(json.dumps(item) + "\n")
        return Verdict(verdict, explanation, usage=usage)
