"""The real Codex CLI (npm ``@openai/codex``) against ``tmax serve`` as a custom provider
speaking the Responses API.

What Codex needs to finish a turn (learned from running it): its own prompt (instructions,
skills, environment, ~10 tool schemas) is ~40 kB, about 17k tokens with the tiny tokenizer,
so the model needs more than the default 16k positions; and the reply must end with the
end-of-turn token, because Codex counts a reply cut at the token limit
(``response.incomplete``) as a failed turn and retries. A random tiny model samples
``<|im_end|>`` about once in 2,000 tokens, so the first test serves a tiny model whose LM head
is edited to favour it (replies of a few random tokens). The second test drives Codex's tool
loop with a scripted engine: thinking and a function call to its ``exec_command`` tool, the
command's output back as ``function_call_output`` (the reasoning item back too), then a final
answer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.skipif(shutil.which("codex") is None,
                                reason="Codex CLI is not installed (scripts/setup.sh installs @openai/codex)")


def ending_model(out_dir: Path) -> Path:
    """The tiny model with 32k positions and an LM head that puts p(<|im_end|>) near 0.6 at
    every step: residual dimension 0 is held at a constant (embeddings set, attention and MLP
    outputs zeroed there), so after the final norm it is a large positive number, and only
    the end-of-turn row of the (untied) LM head reads it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tmax.engines.hf import save_model
    from tmax.engines.tiny import TinyConfig, ensure_tiny_model

    source = ensure_tiny_model(TinyConfig(max_positions=32768))
    model, tokenizer = AutoModelForCausalLM.from_pretrained(source), AutoTokenizer.from_pretrained(source)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    with torch.no_grad():
        head = model.get_input_embeddings().weight.detach().clone()
        model.get_input_embeddings().weight[:, 0] = 1.0
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight[0] = 0.0
            layer.mlp.down_proj.weight[0] = 0.0
        head[:, 0] = 0.0
        head[end, 0] = 1.0
    model.config.tie_word_embeddings = False
    model.lm_head.weight = torch.nn.Parameter(head)
    return save_model(model, tokenizer, out_dir)


def codex_exec(home: Path, workdir: Path, base_url: str, model: str, prompt: str, timeout: int = 240):
    home.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f"""model = "{model}"
model_provider = "tmax"

[model_providers.tmax]
name = "tmax serve"
base_url = "{base_url}"
env_key = "TMAX_TEST_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
""")
    # Codex makes no helper links (its sandbox launcher among them) in a CODEX_HOME under the temp
    # dir, so its temp dir is pointed elsewhere
    (home.parent / "codex-tmp").mkdir(exist_ok=True)
    env = {**os.environ, "CODEX_HOME": str(home), "TMPDIR": str(home.parent / "codex-tmp"), "TMAX_TEST_KEY": "unused"}
    return subprocess.run(["codex", "exec", "--skip-git-repo-check", "--sandbox", "read-only", prompt],
                          cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"tmax serve exited: {process.stdout.read() if process.stdout else ''}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"tmax serve did not answer at {url}")


def test_codex_exec_against_tmax_serve_with_a_tiny_model(tmp_path):
    model_dir = ending_model(tmp_path / "tiny-ends")
    port = 18000 + os.getpid() % 1000
    serve = subprocess.Popen([sys.executable, "-m", "tmax.cli", "serve", str(model_dir), "--name", "tiny",
                              "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env={**os.environ, "PYTHONPATH": ":".join(sys.path)})
    try:
        wait_for(f"http://127.0.0.1:{port}/health", serve)
        done = codex_exec(tmp_path / "codex", tmp_path / "work", f"http://127.0.0.1:{port}/v1", "tiny", "Say hi.")
    finally:
        serve.terminate()
        serve.wait(30)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "tokens used" in done.stderr + done.stdout


def test_codex_runs_a_command_through_a_function_call(scripted, decode, tmp_path):
    call = ("<think>\nRun it and read the output.\n</think>\n\n<tool_call>\n<function=exec_command>\n<parameter=cmd>\n"
            "echo tmax-$((6*7))\n</parameter>\n</function>\n</tool_call>")
    with scripted([call, "It printed tmax-42.", "done", "done"]) as (_, engine, server):
        done = codex_exec(tmp_path / "codex", tmp_path / "work", server.url, "scripted", "Run a command.")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "It printed tmax-42." in done.stdout
    first, second = decode(engine.prompts[0]), decode(engine.prompts[1])
    assert '"name": "exec_command"' in first and "Run a command." in first
    assert "<function=exec_command>\n<parameter=cmd>\necho tmax-$((6*7))\n</parameter>" in second
    assert "<think>\nRun it and read the output.\n</think>" in second  # Codex sent the reasoning item back
    response = second.rsplit("<tool_response>", 1)[1]
    assert "tmax-42" in response  # the command ran and its output came back to the model
