"""Fixtures for the outside harnesses: a scripted model server on loopback (tmax serve over
tmax's ScriptedEngine: fixed replies as token ids, every prompt recorded) and the example task."""

from __future__ import annotations

import contextlib

import pytest

from tests.conftest import EXAMPLES

pytest.importorskip("sse_starlette")

LOG_GREP = EXAMPLES / "log-grep"


def bash_call(command: str, name: str = "bash", arg: str = "command") -> str:
    """A reply that calls tool ``name`` in the Qwen3 XML format tmax serve parses."""
    return f"<tool_call>\n<function={name}>\n<parameter={arg}>\n{command}\n</parameter>\n</function>\n</tool_call>"


def solve_command() -> str:
    """The task's reference solution as one command (what a perfect agent would run)."""
    script = (LOG_GREP / "solution" / "solve.sh").read_text()
    return f"cat > /tmp/solve.sh <<'TMAX_EOF'\n{script}\nTMAX_EOF\nbash /tmp/solve.sh && echo solved-in-$(hostname)"


@pytest.fixture
def scripted_server(tokenizer):
    """``with scripted_server([reply, ...]) as (server, engine):`` a fresh scripted tmax serve."""
    from tmax.engines.token_policy import ScriptedEngine
    from tmax.serve import ModelServer

    end = tokenizer.convert_tokens_to_ids("<|im_end|>")

    @contextlib.contextmanager
    def make(replies: list[str]):
        engine = ScriptedEngine([tokenizer(r, add_special_tokens=False)["input_ids"] + [end] for r in replies])
        with ModelServer(engine, tokenizer, "scripted", port=0) as server:
            yield server, engine

    return make


@pytest.fixture
def decode(tokenizer):
    return lambda ids: tokenizer.decode(ids, skip_special_tokens=False)
