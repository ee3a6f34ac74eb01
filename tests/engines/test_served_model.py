"""A tiny transformers model served over real HTTP on loopback, driven through the harness.

The server is tmax's own OpenAI-compatible ``ModelServer`` around the in-process ``hf`` engine;
the client is the ``openai`` engine, in chat mode and in token mode (completions with ids).
"""

from __future__ import annotations

import httpx
import pytest

from tmax.engines import EngineConfig, SamplingParams, policy_factory
from tmax.engines.hf import HFEngine
from tmax.engines.openai import OpenAIClient
from tmax.serve import ModelServer
from tmax.errors import ConfigError, InfraError
from tmax.harness.loop import HarnessConfig, run_episode
from tmax.sandbox.base import SandboxSpec

SAMPLING = SamplingParams(temperature=1.0, max_tokens=24, seed=3)


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    return HFEngine.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def server(engine):
    with ModelServer(engine, engine.tokenizer, "tiny", port=0) as srv:
        yield srv


@pytest.fixture
def box(rootfs):
    from tmax.sandbox.bwrap import BwrapSandbox

    with BwrapSandbox(rootfs, SandboxSpec(memory_mb=512)) as sb:
        yield sb


def teacher_forced_logprobs(engine, prompt, ids, temperature=1.0):
    import torch

    with torch.no_grad():
        logits = engine.model(torch.tensor([prompt + ids])).logits[0].float() / temperature
    return torch.log_softmax(logits, -1)[len(prompt) - 1:-1].gather(-1, torch.tensor(ids)[:, None]).squeeze(-1).tolist()


def test_chat_mode_runs_an_episode_over_http(server, box):
    new_policy = policy_factory(EngineConfig(name="openai", model="tiny", base_url=server.url, sampling=SAMPLING))
    policy = new_policy()
    episode = run_episode(policy, box, "List the files.", config=HarnessConfig(max_format_errors=2))
    # an untrained model writes no tool call: the harness answers with format errors and stops
    assert episode.exit_reason.startswith("limits_exceeded") and episode.n_format_errors == 2
    assert [m["role"] for m in episode.messages] == ["system", "user", "assistant", "user", "assistant"]
    assert policy.usage["calls"] == 2 and 0 < policy.usage["completion_tokens"] <= 48
    assert policy.usage["prompt_tokens"] > 200  # the system prompt went over the wire


def test_token_mode_returns_the_sampled_ids_and_their_logprobs(server, engine, box, tiny_model_dir):
    cfg = EngineConfig(name="openai", model="tiny", base_url=server.url, tokenizer=str(tiny_model_dir),
                       sampling=SamplingParams(temperature=0.7, max_tokens=16, seed=5))
    policy = policy_factory(cfg)()
    episode = run_episode(policy, box, "Print hello.", config=HarnessConfig(max_format_errors=3))
    record = policy.record
    assert len(record.turns) == 3 and episode.tokens["ids"] == record.ids
    for start, end in record.turns:
        ids = record.ids[start:end]
        expected = teacher_forced_logprobs(engine, record.ids[:start], ids, temperature=0.7)
        assert max(abs(a - b) for a, b in zip(record.logprobs[start:end], expected)) < 1e-4


def test_tool_calls_in_the_text_come_back_structured(server):
    # the server parses what the model wrote (tests/serve drives this end to end with a scripted engine)
    from tmax.harness.prompts import BASH_TOOL
    from tmax.serve.render import split_reply

    reply = split_reply("thinking\n<tool_call>\n<function=bash>\n<parameter=command>\nls\n</parameter>\n"
                        "</function>\n</tool_call>", tools=[BASH_TOOL])
    assert reply.content == "thinking" and reply.calls[0].name == "bash" and reply.calls[0].arguments == {"command": "ls"}
    response = httpx.post(f"{server.url}/chat/completions", json={
        "model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "tools": [BASH_TOOL]}).json()
    assert response["choices"][0]["message"]["role"] == "assistant" and response["usage"]["completion_tokens"] <= 4


def test_clear_errors_for_a_wrong_model_and_an_unreachable_server(server):
    with pytest.raises(ConfigError, match="(?s)no model .gpt-9.*use one of: tiny"):
        policy_factory(EngineConfig(name="openai", model="gpt-9", base_url=server.url))
    bad = httpx.post(f"{server.url}/completions", json={"model": "tiny", "prompt": {"x": 1}})
    assert bad.status_code == 400 and "prompt" in bad.json()["error"]["message"]
    client = OpenAIClient("http://127.0.0.1:9/v1", "tiny", retries=1, backoff_s=0.01)
    with pytest.raises(InfraError, match="failed after 2 attempts"):
        client.check()


def test_concurrent_requests_are_batched(server, engine):
    from concurrent.futures import ThreadPoolExecutor

    client = OpenAIClient(server.url, "tiny", max_concurrency=8)
    prompt = engine.tokenizer("ls -la", add_special_tokens=False)["input_ids"]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: client.complete_ids(prompt, SamplingParams(max_tokens=8, seed=i)), range(8)))
    for r in results:
        choice = r["choices"][0]
        assert choice["prompt_token_ids"] == prompt and len(choice["token_ids"]) == len(choice["logprobs"]["token_logprobs"])
