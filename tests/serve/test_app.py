"""The server as a whole: models, errors a client can cause (always JSON, 4xx, naming what is
wrong), engine failures, batching of concurrent streams, and the ``tmax serve`` verb."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

HI = [{"role": "user", "content": "hi"}]


def test_models(tiny, tiny_server):
    [card] = tiny.models.list().data
    assert card.id == "tiny" and card.model_dump()["max_model_len"] == 16384
    assert tiny.models.retrieve("tiny").id == "tiny"
    assert httpx.get(tiny_server.url.removesuffix("/v1") + "/health").json()["status"] == "ok"


@pytest.mark.parametrize("call, param, words", [
    (lambda c: c.chat.completions.create(model="tiny", messages=HI, logit_bias={"5": 1}), "logit_bias",
     "not supported"),
    (lambda c: c.chat.completions.create(model="tiny", messages=HI, tool_choice="required", tools=[
        {"type": "function", "function": {"name": "f"}}]), "tool_choice", "auto"),
    (lambda c: c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:,"}}]}]), "messages[0].content[0].type", "text only"),
    (lambda c: c.chat.completions.create(model="tiny", messages=HI, presence_penalty=0.5), "presence_penalty",
     "only 0"),
    (lambda c: c.chat.completions.create(model="tiny", messages=HI, temperature=-1), "temperature", "greater"),
    (lambda c: c.responses.create(model="tiny", input="hi", previous_response_id="resp_1"), "previous_response_id",
     "not supported"),
    (lambda c: c.responses.create(model="tiny", input=[{"type": "item_reference", "id": "x"}]), "input[0].type",
     "item_reference"),
    (lambda c: c.completions.create(model="tiny", prompt="hi", suffix="x"), "suffix", "not supported"),
])
def test_unsupported_fields_and_values_are_a_400_naming_them(tiny, call, param, words):
    with pytest.raises(openai.BadRequestError) as caught:
        call(tiny)
    error = caught.value.body
    assert error["param"] == param and f"`{param}" in error["message"] and words in error["message"]


def test_wrong_model_route_and_body(tiny, tiny_server):
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        tiny.chat.completions.create(model="gpt-9", messages=HI)
    missing = httpx.post(tiny_server.url + "/embeddings", json={})
    assert missing.status_code == 404 and "no route POST /v1/embeddings" in missing.json()["error"]["message"]
    bad = httpx.post(tiny_server.url + "/chat/completions", content=b"{not json")
    assert bad.status_code == 400 and "not JSON" in bad.json()["error"]["message"]
    wrong = httpx.post(tiny_server.url + "/responses", json=[1])
    assert wrong.status_code == 400 and "JSON object" in wrong.json()["error"]["message"]


def test_a_prompt_longer_than_the_context(scripted):
    with scripted([], max_context=20) as (client, _, _):
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.create(model="scripted", input="word " * 40, stream=True)
    assert caught.value.body["code"] == "context_length_exceeded" and "context is 20 tokens" in str(caught.value)


def test_engine_failures_are_reported_not_hidden(scripted):
    with scripted([]) as (client, _, _):  # the scripted engine has no reply left: it raises
        with pytest.raises(openai.InternalServerError, match="RuntimeError: scripted engine has only 0"):
            client.chat.completions.create(model="scripted", messages=HI)
        events = list(client.responses.create(model="scripted", input="hi", stream=True))
    assert events[-1].type == "response.failed" and "RuntimeError" in events[-1].response.error.message


def test_concurrent_streams_are_batched(tiny, tiny_engine):
    before = len(tiny_engine.batches)

    def stream(i: int) -> str:
        chunks = tiny.chat.completions.create(model="tiny", messages=HI, max_tokens=4, stream=True)
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(stream, range(12)))
    batches = tiny_engine.batches[before:]
    assert len(replies) == 12 and sum(batches) == 12 and max(batches) > 1


def test_serve_verb_refuses_a_broken_config(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    done = subprocess.run([sys.executable, "-m", "tmax.cli", "serve", str(tmp_path)], capture_output=True, text=True,
                          timeout=60, env={"COLUMNS": "300", "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)})
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert len(lines) == 1 and f"{tmp_path}/config.json: not valid JSON (line 1, column 2" in lines[0]
