"""vLLM's own OpenAI-compatible server (started here on loopback, fp32, processed logprobs,
the qwen3_xml tool parser) driving ``tmax eval --agent openai`` in chat mode and in token mode.
In token mode the recorded logprobs are checked against transformers' teacher forcing."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from tests.conftest import EXAMPLES
from tests.engines.vllm_support import VLLMServer
from tmax.cli import app
from tmax.engines.chat import TokenRecord
from tmax.engines.hf import load_model


@pytest.fixture(scope="module")
def server(vllm_python, tiny_model_dir, tmp_path_factory):
    srv = VLLMServer(vllm_python, tiny_model_dir, "tiny", tmp_path_factory.mktemp("vllm") / "server.log")
    yield srv
    srv.close()


def _eval(server, tmp_path, job: str, *extra: str) -> dict:
    args = ["eval", str(EXAMPLES / "log-grep"), str(EXAMPLES / "csv-summary"), "--agent", "openai", "--model", "tiny",
            "--base-url", server.url, "--sandbox", "bwrap", "--jobs-dir", str(tmp_path), "--job-name", job, "-n", "2",
            "--set", "engine.sampling.max_tokens=24", "--set", "engine.sampling.seed=0",
            "--set", "harness.max_format_errors=2", *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / job / "job.json").read_text())


def _trials(tmp_path, job: str) -> list:
    return sorted(p for p in (tmp_path / job).iterdir() if (p / "result.json").exists())


def test_tmax_eval_chat_mode_over_vllms_server(server, rootfs, tmp_path):
    job = _eval(server, tmp_path, "chat")
    assert job["metrics"]["n_trials"] == 2 and not job["metrics"]["errors"]
    for trial in _trials(tmp_path, "chat"):
        result = json.loads((trial / "result.json").read_text())
        assert result["exception_info"] is None and result["reward"] == 0.0  # an untrained model fails cleanly
        assert result["agent_info"]["model_info"] == {"name": "tiny", "provider": "openai"}
        trajectory = json.loads((trial / "agent" / "trajectory.json").read_text())
        usage = trajectory["extra"]["tmax"]["usage"]
        assert usage["calls"] == 2 and usage["prompt_tokens"] > 100


def test_tmax_eval_token_mode_records_vllms_ids_and_logprobs(server, rootfs, tmp_path, tiny_model_dir):
    _eval(server, tmp_path, "tokens", "--tokenizer", str(tiny_model_dir))
    model, _ = load_model(tiny_model_dir, dtype="float32")
    trials = _trials(tmp_path, "tokens")
    assert len(trials) == 2
    for trial in trials:
        assert json.loads((trial / "result.json").read_text())["exception_info"] is None
        record = TokenRecord.from_dict(json.loads((trial / "agent" / "tokens.json").read_text()))
        assert len(record.turns) == 2
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([record.ids])).logits[0].float(), -1)
        for start, end in record.turns:
            expected = logp[start - 1:end - 1].gather(-1, torch.tensor(record.ids[start:end])[:, None]).squeeze(-1)
            assert float((expected - torch.tensor(record.logprobs[start:end])).abs().max()) <= 1e-5
