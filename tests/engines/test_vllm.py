"""The in-process vLLM engine (``VLLMEngine``) on the tiny model, checked against the trainer.

The engine runs in vLLM's interpreter (``tests/engines/vllm_support.py``); everything it
returns is compared here with transformers' teacher-forced recomputation in the trainer's
interpreter: the sampled ids and the logprobs after temperature (fp32: within 1e-5), after a
DPPO step and a weight reload too, with the fp32 LM head over a bf16 body, and through
``tmax eval --agent vllm``.
"""

from __future__ import annotations

import json
import logging
import subprocess

import pytest
import torch

from tests.conftest import EXAMPLES
from tests.engines.vllm_support import VLLMWorker, vllm_env
from tmax.engines.chat import TokenRecord
from tmax.engines.hf import load_model, upcast_lm_head
from tmax.engines.vllm import checkpoint_dtype, context_length
from tmax.rl.step import Group, StepConfig, train_step

TOL = 1e-5


@pytest.fixture(scope="module")
def worker(vllm_python, tiny_model_dir):
    # max_model_len 65,536 is EngineConfig's default context; the tiny model has 16,384 positions
    w = VLLMWorker(vllm_python, model=str(tiny_model_dir), dtype="float32", max_model_len=65536, seed=0)
    yield w
    w.close()


@pytest.fixture(scope="module")
def trainer(tiny_model_dir):
    model, tokenizer = load_model(tiny_model_dir, dtype="float32")
    return model, tokenizer


def prompt_ids(tokenizer, text: str) -> list[int]:
    return tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True,
                                         tokenize=True, return_dict=True)["input_ids"]


def teacher_forced(model, prompt: list[int], ids: list[int], temperature: float = 1.0) -> torch.Tensor:
    """log softmax(logits / T) of each of ``ids`` after ``prompt``, recomputed in one forward."""
    with torch.no_grad():
        logits = model(torch.tensor([prompt + ids])).logits[0].float() / temperature
    return torch.log_softmax(logits, -1)[len(prompt) - 1:-1].gather(-1, torch.tensor(ids)[:, None]).squeeze(-1)


def max_error(model, prompts, samples, temperature: float = 1.0) -> float:
    return max(float((teacher_forced(model, p, s["token_ids"], temperature) - torch.tensor(s["logprobs"])).abs().max())
               for p, s in zip(prompts, samples))


def with_weights(worker, model, tmp_path, version: int) -> None:
    worker.load_weights(model.state_dict(), tmp_path / f"v{version}.safetensors", version)


def test_context_is_capped_at_the_models_positions_with_a_warning(tiny_model_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="tmax.engines.vllm"):
        assert context_length(tiny_model_dir, 65536) == 16384
    assert "16384 positions" in caplog.text
    caplog.clear()
    assert context_length(tiny_model_dir, 4096) == 4096 and context_length(tiny_model_dir, None) == 16384
    assert not caplog.text


def test_auto_dtype_is_the_checkpoints(tiny_model_dir, tmp_path):
    # vLLM's own "auto" would run the tiny models' fp32 checkpoints in bf16
    assert checkpoint_dtype(tiny_model_dir, "auto") == "float32"
    assert checkpoint_dtype(tiny_model_dir, "bfloat16") == "bfloat16"
    assert checkpoint_dtype(tmp_path, "auto") == "auto"  # no config.json: vLLM decides


def test_vllm_starts_with_the_default_context_and_the_models_stop_ids(worker, trainer):
    info = worker.call("info")
    assert info["max_model_len"] == 16384 and info["dtype"] == "torch.float32"
    assert info["stop_ids"] == [trainer[1].eos_token_id]


def test_vllm_samples_and_logprobs_equal_hf_teacher_forcing(worker, trainer, tmp_path):
    model, tokenizer = trainer
    with_weights(worker, model, tmp_path, 0)
    prompts = [prompt_ids(tokenizer, "List the files.")] * 3 + [prompt_ids(tokenizer, "Count the lines of app.log")]
    for temperature in (1.0, 0.7):
        samples = worker.generate(prompts, temperature=temperature, max_tokens=24, seed=7)
        assert all(len(s["token_ids"]) == 24 and s["finish_reason"] == "length" for s in samples)
        assert max_error(model, prompts, samples, temperature) <= TOL
        # one seed per batch, yet the three copies of one prompt sample differently (seed + i) ...
        assert len({tuple(s["token_ids"]) for s in samples[:3]}) == 3
        # ... and the same call samples the same ids again
        assert worker.generate(prompts, temperature=temperature, max_tokens=24, seed=7) == samples
    greedy = worker.generate(prompts, temperature=0.0, max_tokens=8)
    assert greedy[0] == greedy[1] == greedy[2]
    assert max_error(model, prompts, greedy) <= TOL  # greedy reports logprobs at T = 1, as the hf engine does
    for prompt, sample in zip(prompts, greedy):
        with torch.no_grad():
            assert sample["token_ids"][0] == int(model(torch.tensor([prompt])).logits[0, -1].argmax())


def test_vllm_stops_at_the_end_of_turn_token_and_keeps_it(worker, trainer, tmp_path, tiny_model_dir):
    model, tokenizer = trainer
    prompt = tokenizer("ls -la", add_special_tokens=False)["input_ids"]  # no <|im_end|> in it
    eos = tokenizer.eos_token_id
    with_weights(worker, model, tmp_path, 0)
    [first] = worker.generate([prompt], temperature=0.0, max_tokens=4)
    edited, _ = load_model(tiny_model_dir, dtype="float32")
    with torch.no_grad():  # the end-of-turn row of the (tied) head outscores the greedy token
        emb = edited.get_input_embeddings().weight
        emb[eos] = 1.5 * emb[first["token_ids"][0]]
    with_weights(worker, edited, tmp_path, 1)
    [stopped] = worker.generate([prompt], temperature=0.0, max_tokens=4)
    assert stopped["token_ids"] == [eos] and stopped["finish_reason"] == "stop"
    assert max_error(edited, [prompt], [stopped]) <= TOL


def test_vllm_follows_the_weights_of_a_dppo_step(worker, trainer, tmp_path, tiny_model_dir):
    model, tokenizer = trainer
    with_weights(worker, model, tmp_path, 0)
    prompt = prompt_ids(tokenizer, "Print hello.")
    samples = worker.generate([prompt] * 4, temperature=1.0, max_tokens=16, seed=1)
    records = []
    for s in samples:
        record = TokenRecord()
        record.add_context(prompt)
        record.add_sampled(s["token_ids"], s["logprobs"])
        records.append(record)
    student, _ = load_model(tiny_model_dir, dtype="float32")  # the trainer's own copy
    optimizer = torch.optim.AdamW(student.parameters(), lr=3e-3, weight_decay=0.0)
    metrics = train_step(student, optimizer, [Group("t", records, [1.0, 0.0, 0.0, 1.0], [0] * 4)], StepConfig())
    # mu from vLLM is the trainer's own probability before the step: ratio 1 on every token
    assert metrics["masked_frac"] == 0.0 and metrics["abs_log_ratio"] < TOL and metrics["n_response_tokens"] == 64
    reply = worker.load_weights(student.state_dict(), tmp_path / "step1.safetensors", 1)
    assert reply["version"] == 1 and reply["seconds"] < 5
    after = worker.generate([prompt] * 4, temperature=1.0, max_tokens=16, seed=2)
    assert max_error(student, [prompt] * 4, after) <= TOL
    assert max_error(model, [prompt] * 4, after) > 1e-3  # the old weights would not give these logprobs


def test_vllm_fp32_lm_head_over_a_bf16_body(vllm_python, tiny_model_dir, tmp_path):
    """With the layers' outputs zeroed the last hidden state is the (bf16) token embedding after
    the final norm, which vLLM and transformers compute alike; what is left to differ is the
    head. vLLM's logprobs equal transformers' with an fp32 head exactly, and not with a bf16 one."""
    fp32, _ = load_model(tiny_model_dir, dtype="float32")
    weights = {k: torch.zeros_like(v) if ("o_proj" in k or "down_proj" in k) else v
               for k, v in fp32.state_dict().items()}
    references = {}
    for head in ("fp32", "bf16"):
        model, tokenizer = load_model(tiny_model_dir, dtype="bfloat16")
        model.load_state_dict(weights)
        if head == "fp32":
            upcast_lm_head(model)
        references[head] = model
    worker = VLLMWorker(vllm_python, model=str(tiny_model_dir), dtype="bfloat16", fp32_lm_head=True,
                        max_model_len=1024, seed=0)
    try:
        assert worker.call("info")["dtype"] == "torch.bfloat16"  # dtype passed through
        worker.load_weights(weights, tmp_path / "w.safetensors", 1)
        prompts = [prompt_ids(tokenizer, "Print hello."), prompt_ids(tokenizer, "ls")]
        samples = worker.generate(prompts, temperature=1.0, max_tokens=32, seed=0)
    finally:
        worker.close()
    assert max_error(references["fp32"], prompts, samples) <= TOL
    assert max_error(references["bf16"], prompts, samples) > 1e-4  # bf16 logits are rounded to 8 bits


def test_tmax_eval_agent_vllm_records_the_engines_logprobs(vllm_python, rootfs, tiny_model_dir, trainer, tmp_path):
    """``tmax eval --agent vllm`` with the default context (65,536 > the model's 16,384) and dtype
    ("auto": the checkpoint's fp32, which the logprobs show)."""
    cmd = [vllm_python, "-m", "tmax.cli", "eval", str(EXAMPLES / "log-grep"), "--agent", "vllm", "--model",
           str(tiny_model_dir), "--sandbox", "bwrap", "--jobs-dir", str(tmp_path), "--job-name", "v",
           "--set", "engine.sampling.max_tokens=16",
           "--set", "engine.sampling.seed=0", "--set", "harness.max_format_errors=2"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=vllm_env(), timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    trial = tmp_path / "v" / "log-grep__r0"
    result = json.loads((trial / "result.json").read_text())
    assert result["exception_info"] is None and result["reward"] == 0.0
    assert result["agent_info"]["model_info"]["provider"] == "vllm"
    tokens = json.loads((trial / "agent" / "tokens.json").read_text())
    record = TokenRecord.from_dict(tokens)
    assert len(record.turns) == 2
    model, _ = trainer
    for start, end in record.turns:
        expected = teacher_forced(model, record.ids[:start], record.ids[start:end])
        assert float((expected - torch.tensor(record.logprobs[start:end])).abs().max()) <= TOL
