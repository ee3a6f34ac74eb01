"""The Codex CLI (npm ``@openai/codex``) as a trial agent, run inside the task's sandbox.

Codex acts on the machine it runs on, so it runs where the task is: its native Linux binary
(static, musl: it needs nothing from the task's image) is uploaded to ``/tmp/tmax-codex/bin``
with its ``rg``, and ``codex exec`` runs there from the task's workdir (the sandbox's). Its network is the
sandbox's: offline but for one ``Portal`` (tmax.sandbox.portal) from the sandbox's own
loopback to the model endpoint, so the model is the only thing it can reach, and every command
it runs is confined by tmax's sandbox. Its own sandbox (landlock, seccomp, bwrap) is off
(``--dangerously-bypass-approvals-and-sandbox``): it would need privileges tmax's sandbox does
not give, and tmax's sandbox is the boundary.

Its config (``CODEX_HOME=/tmp/tmax-codex/home``) names one provider, ``tmax``, speaking the
Responses API at the portal. Records in ``agent/``: ``codex.jsonl`` (``codex exec --json``
events: turns, items, token usage), ``codex-stderr.txt``, ``sessions/`` (Codex's own rollout
files). Then ``/tmp/tmax-codex`` is removed, so the verifier sees the agent's work only.

Failures: Codex's exit status and failed turns are the agent's (the verifier still scores the
sandbox); the binary not starting (exit 126/127: not found, not executable) or the portal
failing to reach the model endpoint is the infrastructure's and raises ``InfraError``.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from tmax.engines.base import SamplingParams
from tmax.errors import ConfigError, InfraError, SandboxError
from tmax.harnesses import Endpoint, OutsideConfig
from tmax.sandbox.base import Sandbox
from tmax.sandbox.portal import Portal
from tmax.tasks import Task
from tmax.trial.agents import AgentOutcome

ROOT = "/tmp/tmax-codex"
_TOOL_ITEMS = {"command_execution", "file_change", "mcp_tool_call", "web_search"}


def find_binary(configured: str | None = None) -> Path:
    """The Codex CLI's native Linux binary: ``configured``, or the one the npm package of the
    ``codex`` on PATH ships under ``vendor/<target>/bin/codex``."""
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ConfigError("no such file", where=f"outside.codex_binary = {configured}",
                              fix="point at the native binary (…/vendor/x86_64-unknown-linux-musl/bin/codex)")
        return path
    launcher = shutil.which("codex")
    if launcher is None:
        raise ConfigError("the Codex CLI is not installed", where="--harness codex",
                          fix="npm install -g @openai/codex@0.171.0 (scripts/setup.sh does)")
    package = Path(launcher).resolve().parent.parent  # …/@openai/codex/bin/codex.js -> …/@openai/codex
    found = sorted(package.glob("**/vendor/*-linux-musl/bin/codex"))
    if not found:
        if Path(launcher).resolve().read_bytes()[:4] == b"\x7fELF":  # a native install: the binary itself
            return Path(launcher).resolve()
        raise ConfigError(f"no native Linux binary under {package}", where="--harness codex",
                          fix="reinstall @openai/codex for this platform, or set outside.codex_binary")
    return found[0]


def _config(endpoint: Endpoint, port: int) -> str:
    path = urlsplit(endpoint.base_url).path.rstrip("/") or "/v1"
    return f"""model = {json.dumps(endpoint.model)}
model_provider = "tmax"
approval_policy = "never"
sandbox_mode = "danger-full-access"

[model_providers.tmax]
name = "tmax"
base_url = "http://127.0.0.1:{port}{path}"
env_key = "TMAX_CODEX_API_KEY"
wire_api = "responses"
request_max_retries = 1
stream_max_retries = 1
"""


def _target(base_url: str) -> tuple[str, int]:
    url = urlsplit(base_url)
    if url.scheme != "http" or not url.hostname:
        raise ConfigError(f"the codex harness relays plain HTTP only, not {base_url!r}", where="--base-url",
                          fix="serve the model over http (tmax serve, vLLM), or use --harness mini-swe-agent")
    return url.hostname, url.port or 80


def summarize_events(text: str) -> dict:
    """Counts from ``codex exec --json`` output: turns, tool items, token usage, errors."""
    out = {"n_turns": 0, "n_tool_calls": 0, "n_messages": 0, "input_tokens": None, "output_tokens": None,
           "errors": [], "warnings": []}
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        kind, item = event.get("type"), event.get("item") if isinstance(event.get("item"), dict) else {}
        if kind == "turn.completed":
            out["n_turns"] += 1
            usage = event.get("usage") or {}
            for key in ("input_tokens", "output_tokens"):
                if isinstance(usage.get(key), int):
                    out[key] = (out[key] or 0) + usage[key]
        elif kind == "item.completed" and item.get("type") in _TOOL_ITEMS:
            out["n_tool_calls"] += 1
        elif kind == "item.completed" and item.get("type") == "agent_message":
            out["n_messages"] += 1
        elif kind == "item.completed" and item.get("type") == "error":  # a notice, the turn goes on
            out["warnings"].append(str(item.get("message"))[:500])
        elif kind in ("turn.failed", "error"):
            error = event.get("error") if isinstance(event.get("error"), dict) else event
            out["errors"].append(str(error.get("message") or error)[:500])
    return out


def _read(sandbox: Sandbox, path: str) -> str:
    fh = sandbox.open_file(path)
    if fh is None:
        return ""
    with fh:
        return fh.read().decode("utf-8", "replace")


@contextlib.contextmanager
def _install(sandbox: Sandbox, endpoint: Endpoint, target: tuple[str, int], binary: Path, rg: Path, task: Task):
    """Open the portal and put Codex, its config and the prompt into the sandbox. Failing here
    is never the agent's doing (it has not run yet): raised as InfraError, which the trial
    runner records as an error, not as a sandbox that broke under the agent."""
    try:
        portal = Portal(sandbox, target)
    except SandboxError as exc:
        raise InfraError(f"codex: {exc.what}", where=exc.where, fix=exc.fix) from None
    try:
        with tempfile.TemporaryDirectory(prefix="tmax-codex-") as tmp:
            staging = Path(tmp)
            (staging / "home").mkdir()
            (staging / "home" / "config.toml").write_text(_config(endpoint, portal.port))
            (staging / "prompt.md").write_text(task.instruction)
            sandbox.upload(staging, ROOT)
        sandbox.upload(binary, f"{ROOT}/bin/codex")
        if rg.is_file():
            sandbox.upload(rg, f"{ROOT}/bin/rg")
    except SandboxError as exc:
        portal.close()
        raise InfraError(f"codex could not be installed in the sandbox: {exc.what}", where=exc.where,
                         fix="the binary needs ~320 MB of the sandbox's storage (task storage_mb)") from None
    with portal:
        yield portal


def _collect(sandbox: Sandbox, log_dir: Path) -> tuple[str, str]:
    """Codex's records into ``log_dir``, then its files out of the sandbox. A sandbox that died
    under the agent leaves them unread; the verifier then meets it as it is."""
    events = stderr = ""
    try:
        events, stderr = _read(sandbox, f"{ROOT}/events.jsonl"), _read(sandbox, f"{ROOT}/stderr.txt")
        sandbox.download(f"{ROOT}/home/sessions", log_dir / "sessions")
    except SandboxError:
        pass  # no session was written (Codex ended before its first turn), or the sandbox is gone
    (log_dir / "codex.jsonl").write_text(events)
    (log_dir / "codex-stderr.txt").write_text(stderr)
    try:
        sandbox.exec(f"rm -rf {ROOT}", 120)
    except SandboxError:
        pass
    return events, stderr


def codex_agent(endpoint: Endpoint, cfg: OutsideConfig, sampling: SamplingParams):
    binary = find_binary(cfg.codex_binary)
    rg = binary.parent.parent / "codex-path" / "rg"
    target = _target(endpoint.base_url)
    args = " ".join(map(shlex.quote, cfg.codex_args))

    def agent(sandbox: Sandbox, task: Task, log_dir: Path, timeout: float) -> AgentOutcome:
        log_dir.mkdir(parents=True, exist_ok=True)
        with _install(sandbox, endpoint, target, binary, rg, task) as portal:
            command = (f"mkdir -p {ROOT}/tmp && CODEX_HOME={ROOT}/home TMPDIR={ROOT}/tmp "
                       f"TMAX_CODEX_API_KEY={shlex.quote(endpoint.api_key)} PATH={ROOT}/bin:$PATH "
                       f"{ROOT}/bin/codex exec --json --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox "
                       f"{args} \"$(cat {ROOT}/prompt.md)\" > {ROOT}/events.jsonl 2> {ROOT}/stderr.txt")
            result = sandbox.exec(command, timeout)
        events, stderr = _collect(sandbox, log_dir)
        if result.exit_code in (126, 127) and not events:
            raise InfraError(f"codex did not start in the sandbox (exit {result.exit_code}): {stderr.strip()[-500:]}",
                             where=f"{ROOT}/bin/codex", fix="check outside.codex_binary is the static Linux binary")
        if portal.upstream_errors:
            raise InfraError(f"the model endpoint could not be reached: {portal.upstream_errors[0]}",
                             where=endpoint.base_url, fix="check that the model server is up")
        counts = summarize_events(events)
        exit_reason = ("agent timeout" if result.timed_out else "completed" if result.exit_code == 0
                       else f"codex exited {result.exit_code}")
        return AgentOutcome(timed_out=result.timed_out, exit_code=result.exit_code,
                            n_input_tokens=counts.pop("input_tokens"), n_output_tokens=counts.pop("output_tokens"),
                            metadata={"harness": "codex", "exit_reason": exit_reason,
                                      "n_model_connections": portal.n_connections, **counts})

    return agent
