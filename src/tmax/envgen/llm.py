"""``tmax generate --writer llm``: a model writes each task from a sampled signature.

For each task: sample a signature (taxonomy, never repeated), render the writer prompt,
ask the model (``openai`` engine, chat completions), parse the reply into files
(``=== FILE: path ===`` sections), repair what is mechanical (code fences, CRLF, shebangs,
a Dockerfile FROM the public Debian image with the base's packages), write a Harbor task dir, then apply the soft filter:
the image must build. Optionally (``validate_oracle``) the reference solution must also score
1. Rejected tasks move to ``_rejected/`` with the reason; every attempt is logged in
``_logs/<name>.json`` with prompt, reply, token usage and outcome. Resumable: names already
kept or rejected are skipped (their signatures stay used).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from tmax.envgen.bundle import GRADING_LIB, PUBLIC_BASE, TaskParts, base_setup, task_toml, write_files
from tmax.errors import TmaxError
from tmax.io import write_json_atomic
from tmax.sandbox.images import BASE_IMAGE

REQUIRED = ("instruction.md", "environment/Dockerfile", "tests/test.sh", "solution/solve.sh")
_MARKER = re.compile(r"^=== FILE: (.+?) ===[ \t]*$", re.MULTILINE)
_END = re.compile(r"^=== END ===[ \t]*$", re.MULTILINE)
_FENCE = re.compile(r"\A\s*```[\w.+-]*\n(.*?)\n?```\s*\Z", re.DOTALL)
_PROMPT = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                             undefined=jinja2.StrictUndefined).get_template("writer.j2")


class BundleError(ValueError):
    """The reply is not a usable bundle; the message is fed back to the model."""


def parse_bundle(reply: str) -> dict[str, str]:
    """Files from a writer reply, repaired; raises BundleError naming what is wrong."""
    end = _END.search(reply)
    text = reply[:end.start()] if end else reply
    marks = list(_MARKER.finditer(text))
    if not marks:
        raise BundleError("no `=== FILE: path ===` sections found")
    files = {}
    for mark, nxt in zip(marks, marks[1:] + [None]):
        path = mark.group(1).strip().lstrip("/")
        if ".." in Path(path).parts or path.startswith(("task.toml", "tests/tmax_verify.py")):
            raise BundleError(f"file path {path!r} is not allowed")
        body = text[mark.end():nxt.start() if nxt else len(text)].strip("\n")
        fenced = _FENCE.match(body)
        files[path] = (fenced.group(1) if fenced else body).replace("\r\n", "\n") + "\n"
    missing = [p for p in REQUIRED if not files.get(p, "").strip()]
    if missing:
        raise BundleError(f"missing or empty: {', '.join(missing)}")
    for script in [p for p in files if p.endswith(".sh")]:
        if not files[script].startswith("#!"):
            files[script] = "#!/bin/bash\n" + files[script]
    tests = "".join(v for k, v in files.items() if k.startswith("tests/"))
    if not re.search(r"reward|\.finish\(", tests):  # a reward file, or tmax_verify's Grader.finish()
        raise BundleError("the tests never write a reward (/logs/verifier/reward.json or reward.txt)")
    dockerfile = files["environment/Dockerfile"]
    local = re.compile(rf"^\s*FROM\s+{re.escape(BASE_IMAGE)}\s*$\n?", re.IGNORECASE | re.MULTILINE)
    if local.search(dockerfile):  # tmax's own base: no Harbor user can pull it; the public one instead
        dockerfile = local.sub("", dockerfile, count=1)
    if not re.search(r"^\s*FROM\s", dockerfile, re.IGNORECASE | re.MULTILINE):
        dockerfile = f"FROM {PUBLIC_BASE}\n{base_setup()}\n" + dockerfile
    files["environment/Dockerfile"] = dockerfile
    return files


def materialize(files: dict[str, str], out_dir: Path, metadata: dict) -> Path:
    task = {"task.toml": task_toml(TaskParts("", "", ""), metadata), "tests/tmax_verify.py": GRADING_LIB.read_text()}
    return write_files({**task, **files}, out_dir)


@dataclass
class Outcome:
    name: str
    kept: bool
    reason: str = ""
    attempts: int = 0
    usage: dict = field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})


def write_one(name: str, signature, client, out: Path, *, max_attempts: int = 2, backend: str = "podman",
              validate_oracle: bool = False, sampling=None) -> Outcome:
    """Ask, parse (re-asking with the error), materialize, filter. Never raises for a bad task."""
    from tmax.engines import SamplingParams
    from tmax.envgen.taxonomy import TASK_COMPLEXITY

    prompt = _PROMPT.render(s=signature, base_image=PUBLIC_BASE,
                            complexity_hint=TASK_COMPLEXITY.get(signature.task_complexity, ""))
    messages = [{"role": "user", "content": prompt}]
    outcome, log = Outcome(name, False), {"signature": signature.to_dict(), "prompt": prompt, "replies": []}
    files = None
    while outcome.attempts < max_attempts and files is None:
        outcome.attempts += 1
        response = client.chat(messages, sampling or SamplingParams(temperature=0.8, max_tokens=8192))
        usage = response.get("usage") or {}
        for key in outcome.usage:
            outcome.usage[key] += usage.get(key, 0)
        reply = response["choices"][0]["message"].get("content") or ""
        log["replies"].append(reply)
        try:
            files = parse_bundle(reply)
        except BundleError as exc:
            outcome.reason = f"unusable reply: {exc}"
            messages += [{"role": "assistant", "content": reply},
                         {"role": "user", "content": f"That reply cannot be used: {exc}. Send the whole bundle again."}]
    if files is not None:
        meta = {**signature.to_dict(), "skills": list(signature.skills), "signature": signature.key(),
                "generator": "llm", "writer_model": client.model}
        task_dir = materialize(files, out / name, meta)
        outcome.kept, outcome.reason = _soft_filter(task_dir, out, backend, validate_oracle)
        if not outcome.kept:
            rejected = out / "_rejected" / name
            shutil.rmtree(rejected, ignore_errors=True)
            rejected.parent.mkdir(parents=True, exist_ok=True)
            task_dir.rename(rejected)
            (rejected / "REJECTED.txt").write_text(outcome.reason + "\n")
    log.update(kept=outcome.kept, reason=outcome.reason, attempts=outcome.attempts, usage=outcome.usage)
    write_json_atomic(out / "_logs" / f"{name}.json", log)
    return outcome


def _soft_filter(task_dir: Path, out: Path, backend: str, validate_oracle: bool) -> tuple[bool, str]:
    from tmax.sandbox import prepare_environment
    from tmax.tasks import load_task

    try:
        task = load_task(task_dir)
        prepare_environment(task, backend, out / "_logs" / f"{task_dir.name}.build.log")
    except TmaxError as exc:
        return False, f"does not build: {exc}"
    if validate_oracle:
        from tmax.trial import run_trial

        trial = run_trial(task, out / "_logs" / "oracle", agent="oracle", backend=backend)
        if trial.reward != 1.0:
            return False, f"oracle scored {trial.reward} ({trial.error or 'verifier said so'})"
    return True, "builds" + (" and the oracle scores 1" if validate_oracle else "")


def generate(n: int, out: Path, client, *, seed: int = 0, concurrency: int = 4, max_attempts: int = 2,
             backend: str = "podman", validate_oracle: bool = False,
             on_task: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    from tmax.envgen.procedural import existing_signatures
    from tmax.envgen.taxonomy import Sampler

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    done = {p.stem for p in (out / "_logs").glob("*.json")} if (out / "_logs").is_dir() else set()
    rejected = {p.parent.name: p for p in (out / "_rejected").glob("*/task.toml")}
    seen = list(existing_signatures(out).values()) + list(existing_signatures(out / "_rejected").values())
    sampler, lock = Sampler(seed, seen=seen), threading.Lock()
    jobs = []
    for i in range(n):
        name = f"llm-{seed}-{i:05d}"
        if name in done or name in rejected:
            continue
        with lock:
            jobs.append((name, sampler.sample()))
    outcomes = []
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(write_one, name, sig, client, out, max_attempts=max_attempts, backend=backend,
                               validate_oracle=validate_oracle) for name, sig in jobs]
        for future in as_completed(futures):
            outcomes.append(future.result())
            if on_task:
                on_task(outcomes[-1])
    summary = {"kept": sum(o.kept for o in outcomes), "rejected": sum(not o.kept for o in outcomes),
               "prompt_tokens": sum(o.usage["prompt_tokens"] for o in outcomes),
               "completion_tokens": sum(o.usage["completion_tokens"] for o in outcomes)}
    previous = json.loads((out / "generation.json").read_text()) if (out / "generation.json").exists() else {}
    write_json_atomic(out / "generation.json", {**previous, "writer": "llm", "model": client.model, "seed": seed,
                                                "last_run": summary})
    return outcomes
