import json

import pytest

from eval.judge import Judge, JudgeUnavailable, is_reasoning_model, make_client, parse_verdict, request_params
from tests.fake_openai import FakeOpenAI, completion

GOOD = json.dumps({"verdict": "correct", "explanation": "same rows"})


@pytest.fixture
def server():
    s = FakeOpenAI()
    yield s
    s.close()


def _judge(server, tmp_path, model="gpt-4o-mini", timeout=5.0):
    client, _, provider = make_client({"OPENAI_BASE_URL": server.url + "/v1"}, timeout=timeout)
    assert provider == "compatible"
    return Judge(client, model, cache_path=tmp_path / "cache.jsonl", backoff_s=0.01)


def test_good_verdict_and_usage(server, tmp_path):
    server.replies.append((200, completion(GOOD), 0))
    v = _judge(server, tmp_path).judge("How many?", "CREATE TABLE t (a INT)", "SELECT COUNT(*) FROM t", "SELECT COUNT(a) FROM t")
    assert (v.verdict, v.explanation, v.cached) == ("correct", "same rows", False)
    sent = server.requests[0]["body"]
    assert sent["temperature"] == 0 and "max_tokens" in sent
    assert "Gold SQL:\nSELECT COUNT(*) FROM t" in sent["messages"][1]["content"] and "CREATE TABLE t" in sent["messages"][1]["content"]


def test_cache_makes_a_rerun_free(server, tmp_path):
    server.replies.append((200, completion(GOOD), 0))
    _judge(server, tmp_path).judge("q", None, "SELECT 1", "SELECT 1")
    again = _judge(server, tmp_path)  # a new process would read the same cache file
    v = again.judge("q", None, "SELECT 1", "SELECT 1")
    assert v.cached and v.verdict == "correct" and len(server.requests) == 1 and again.usage["calls"] == 0


def test_malformed_json_is_no_verdict(server, tmp_path):
    server.replies.append((200, completion("I think it is right {not json"), 0))
    v = _judge(server, tmp_path).judge("q", None, "SELECT 1", "SELECT 2")
    assert v.verdict is None and "unreadable" in v.explanation


def test_429_then_success(server, tmp_path):
    server.replies += [(429, {"error": {"message": "slow down"}}, 0), (200, completion(GOOD), 0)]
    j = _judge(server, tmp_path)
    assert j.judge("q", None, "SELECT 1", "SELECT 1").verdict == "correct" and len(server.requests) == 2


def test_timeout_then_success(server, tmp_path):
    server.replies += [(200, completion(GOOD), 1.5), (200, completion(GOOD), 0)]
    j = _judge(server, tmp_path, timeout=0.5)
    assert j.judge("q", None, "SELECT 1", "SELECT 1").verdict == "correct" and len(server.requests) == 2


def test_gives_up_after_retries(server, tmp_path):
    server.replies += [(429, {"error": {"message": "no"}}, 0)] * 5
    v = _judge(server, tmp_path).judge("q", None, "SELECT 1", "SELECT 1")
    assert v.verdict is None and "RateLimitError" in v.explanation


def test_reasoning_model_parameters(server, tmp_path):
    server.replies.append((200, completion(GOOD), 0))
    _judge(server, tmp_path, model="o4-mini").judge("q", None, "SELECT 1", "SELECT 1")
    sent = server.requests[0]["body"]
    assert "temperature" not in sent and "max_tokens" not in sent and sent["max_completion_tokens"] > 0
    assert is_reasoning_model("o4-mini") and is_reasoning_model("gpt-5-mini") and not is_reasoning_model("gpt-4o")
    assert request_params("gpt-4o") == {"temperature": 0, "max_tokens": 400}


def test_azure_factory_path(server, tmp_path):
    env = {"AZURE_OPENAI_ENDPOINT": server.url, "AZURE_OPENAI_API_KEY": "k3y", "OPENAI_API_VERSION": "2024-12-01-preview",
           "AZURE_OPENAI_DEPLOYMENT": "o4-mini"}
    client, model, provider = make_client(env)
    assert (model, provider) == ("o4-mini", "azure")
    server.replies.append((200, completion(GOOD), 0))
    assert Judge(client, model).judge("q", None, "SELECT 1", "SELECT 1").verdict == "correct"
    req = server.requests[0]
    assert req["path"].startswith("/openai/deployments/o4-mini/chat/completions") and "api-version=2024-12-01-preview" in req["path"]
    assert req["headers"].get("api-key") == "k3y"


@pytest.mark.parametrize("env,message", [({}, "no judge configured"),
                                         ({"AZURE_OPENAI_ENDPOINT": "https://x"}, "AZURE_OPENAI_API_KEY")])
def test_missing_credentials_are_clear(env, message):
    with pytest.raises(JudgeUnavailable, match=message):
        make_client(env)


@pytest.mark.parametrize("text,verdict", [
    ('{"verdict": "logic_error", "explanation": "wrong join"}', "logic_error"),
    ('```json\n{"verdict": "incomplete", "explanation": "x"}\n```', "incomplete"),
    ('{"verdict": "great"}', None), ("", None)])
def test_parse_verdict(text, verdict):
    assert parse_verdict(text)[0] == verdict
