"""Servers for the serving tests, all real and on loopback, spoken to with the official SDK.

- ``tiny_server``: the cached tiny Qwen3 model on the hf engine (with the scorer, so top
  logprobs and echo work). A random model writes garbage, so these tests check shapes,
  counts, determinism under a seed and logprob consistency, never words.
- ``scripted``: a server whose engine is tmax's ``ScriptedEngine``: it answers fixed texts (as
  token ids, end-of-turn appended) and records every prompt it was given. Tool-call parsing
  and prompt rendering are checked through it.
"""

from __future__ import annotations

import contextlib
import threading

import pytest

openai = pytest.importorskip("openai")
pytest.importorskip("sse_starlette")


class CountingEngine:
    """An Engine that passes batches to another and records their sizes."""

    def __init__(self, engine):
        self.engine, self.batches, self._lock = engine, [], threading.Lock()

    def generate(self, prompts, params):
        with self._lock:
            self.batches.append(len(prompts))
        return self.engine.generate(prompts, params)


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir):
    from tmax.engines.hf import HFEngine

    return CountingEngine(HFEngine.from_pretrained(tiny_model_dir))


@pytest.fixture(scope="session")
def tiny_server(tiny_engine):
    from tmax.serve import HFScorer, ModelServer

    inner = tiny_engine.engine
    with ModelServer(tiny_engine, inner.tokenizer, "tiny", port=0, scorer=HFScorer(inner.model),
                     max_context=inner.model.config.max_position_embeddings) as server:
        yield server


@pytest.fixture(scope="session")
def tiny(tiny_server):
    return openai.OpenAI(base_url=tiny_server.url, api_key="unused", max_retries=0)


def encode_reply(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.convert_tokens_to_ids("<|im_end|>")]


@pytest.fixture
def scripted(tokenizer):
    """``with scripted(["reply", ...]) as (client, engine, server):`` a fresh scripted server."""
    from tmax.engines.token_policy import ScriptedEngine
    from tmax.serve import ModelServer

    @contextlib.contextmanager
    def make(replies: list[str], **kwargs):
        engine = ScriptedEngine([encode_reply(tokenizer, r) for r in replies])
        with ModelServer(engine, tokenizer, "scripted", port=0, **kwargs) as server:
            yield openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0), engine, server

    return make


@pytest.fixture
def decode(tokenizer):
    return lambda ids: tokenizer.decode(ids, skip_special_tokens=False)
