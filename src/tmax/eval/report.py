"""Compare evaluation jobs side by side: read job dirs, score each model, write report.md + plots.

Both layouts read hold one ``<task>__<id>/result.json`` per trial, shaped like Harbor's
TrialResult (task_name, agent_info.model_info, agent_result tokens, verifier_result.rewards,
exception_info, started_at):

- tmax: ``<job>/job.json`` (model, agent, engine, runs) beside Harbor's ``config.json`` and
  ``result.json``, trial dirs ``<task>__r<k>``; the run is the top-level ``run`` (``config.run``
  in job dirs of tmax before Harbor's format; else the ``r<k>`` suffix), the reward the
  top-level ``reward``.
- Harbor: ``<job>/config.json`` (JobConfig: agents[].model_name, n_attempts) and ``result.json``
  (JobResult), trial dirs ``<task[:32]>__<shortuuid>``; the reward is
  ``verifier_result.rewards["reward"]``. Harbor keeps no run index, so a task's attempts are
  numbered in ``started_at`` order.

Trials are grouped by model label (model_info.name, else the configured model, else the agent,
else the job dir name). Job dirs with one label merge, a task's attempts numbered across them in
the order given, so run k is the k-th attempt at every task. Scoring follows DESIGN "Reporting":
a run's score is the mean reward over every task, an errored trial or an attempt missing from a
run counting 0 and listed; mean ± SEM over runs; unbiased pass@k, success meaning reward 1.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from tmax.errors import ConfigError
from tmax.io import read_json_or_none
from tmax.eval.metrics import mean_pass_at_k, mean_sem, run_score

MISSING = "missing: no trial for this run"
_FIX = ("pass a job dir written by tmax (job.json + <task>__r<k>/result.json) or by `harbor run` "
        "(config.json + <task>__<id>/result.json), or a folder of such job dirs")


@dataclass
class Trial:
    task: str
    name: str  # the trial dir name
    attempt: int | None  # this attempt's index at the task within its job
    reward: float | None
    error: str | None
    model: str
    agent: str = ""
    n_input_tokens: int | None = None
    n_output_tokens: int | None = None
    n_turns: int | None = None  # tool calls
    domain: str | None = None
    started_at: str = ""
    harness: str = ""  # the agent loop: tmax's, or an outside one (mini-swe-agent, codex, terminus-2, ...)

    @property
    def solved(self) -> bool:
        return self.reward is not None and self.reward >= 1.0


@dataclass
class Job:
    path: Path
    layout: str  # "tmax" or "harbor"
    trials: list[Trial] = field(default_factory=list)


def _dig(data, *keys):
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _harbor_model(model_name: str | None) -> str | None:
    """Harbor's model_info.name: the configured ``provider/model`` without its provider."""
    return model_name.split("/", 1)[-1] if model_name else None


def _layout(path: Path) -> str | None:
    if (path / "job.json").is_file():
        return "tmax"
    config, result = read_json_or_none(path / "config.json"), read_json_or_none(path / "result.json")
    if isinstance(config, dict) and "task" not in config:  # a trial's config.json names its task
        return "harbor"
    return "harbor" if isinstance(result, dict) and "n_total_trials" in result else None


def load_job(path: Path) -> Job:
    """Read every trial of one job dir (tmax or Harbor layout)."""
    path = Path(path)
    layout = _layout(path) if path.is_dir() else None
    if layout is None:
        trial = path.is_dir() and "task_name" in (read_json_or_none(path / "result.json") or {})
        what = ("is one trial, not a job dir" if trial else "does not exist" if not path.exists()
                else "is not a job dir: no job.json (tmax) or config.json (Harbor)")
        raise ConfigError(what, where=str(path), fix=f"pass the job dir above it, {path.parent}" if trial else _FIX)
    meta_file = path / ("job.json" if layout == "tmax" else "config.json")
    meta = read_json_or_none(meta_file) if meta_file.exists() else {}
    if not isinstance(meta, dict):
        raise ConfigError("is not a readable JSON object", where=str(meta_file),
                          fix="restore the file (the trial dirs beside it are read on their own)")
    agents = meta.get("agents") or [{}]  # several Harbor agents: each trial's config names its model
    model = meta.get("model") or (_harbor_model(agents[0].get("model_name")) if len(agents) == 1 else None)
    dirs = sorted(d for d in path.iterdir() if d.is_dir() and ((d / "result.json").exists() or "__" in d.name))
    trials = [_read_trial_or_error(d, model, meta.get("agent"), path.name) for d in dirs]
    for t in trials:  # a trial that does not say (unreadable, older tmax): the job's harness
        t.harness = t.harness or str(meta.get("harness") or "tmax")
    if any(t.attempt is None for t in trials):  # no run index (Harbor): number by start time
        by_task = defaultdict(list)
        for t in trials:
            by_task[t.model, t.task].append(t)
        for group in by_task.values():
            for i, t in enumerate(sorted(group, key=lambda t: (t.started_at, t.name))):
                t.attempt = i
    return Job(path, layout, trials)


def _read_trial_or_error(trial_dir: Path, job_model: str | None, job_agent: str | None, job_name: str) -> Trial:
    """A trial, or -- when its result.json has fields of the wrong type -- an errored trial that
    names the file: one malformed trial must not stop a report."""
    try:
        return _read_trial(trial_dir, job_model, job_agent, job_name)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        task = trial_dir.name.rpartition("__")[0] or trial_dir.name
        return Trial(task, trial_dir.name, None, None, f"malformed {trial_dir / 'result.json'}: {exc}",
                     str(job_model or job_agent or job_name))


def _read_trial(trial_dir: Path, job_model: str | None, job_agent: str | None, job_name: str) -> Trial:
    task, _, suffix = trial_dir.name.rpartition("__")
    run = int(suffix[1:]) if re.fullmatch(r"r\d+", suffix) else None
    result = read_json_or_none(trial_dir / "result.json")
    if not isinstance(result, dict):  # listed as an errored trial: one broken file must not hide a job
        why = "unreadable result.json" if (trial_dir / "result.json").exists() else "no result.json (unfinished?)"
        return Trial(task or trial_dir.name, trial_dir.name, run, None, why, job_model or job_agent or job_name)
    config_agent = _dig(result, "config", "agent")  # tmax: the agent's name; Harbor: an AgentConfig
    agent = str(_dig(result, "agent_info", "name") or _dig(config_agent, "name")
                or (config_agent if isinstance(config_agent, str) else job_agent) or "")
    model = (_dig(result, "agent_info", "model_info", "name") or _harbor_model(_dig(config_agent, "model_name"))
             or job_model or agent or job_name)
    for found in (result.get("run"), _dig(result, "config", "run")):  # tmax now; tmax before Harbor's config
        if isinstance(found, int):
            run = found
            break
    # tmax records its harness; a Harbor trial's agent (terminus-2, mini-swe-agent, ...) is its harness
    harness = (result.get("harness") if isinstance(result.get("harness"), str) else None) or _dig(result, "config", "harness") \
        or (agent if isinstance(config_agent, dict) and not result.get("sandbox") else "")
    usage = result.get("agent_result") or {}
    trial = Trial(str(result.get("task_name") or task), trial_dir.name, run, _reward(result), _error(result), str(model),
                  agent, usage.get("n_input_tokens"), usage.get("n_output_tokens"),
                  _dig(usage, "metadata", "n_tool_calls"),
                  _dig(result, "task_metadata", "domain") or _dig(result, "task_metadata", "category"),
                  str(result.get("started_at") or ""), str(harness))
    if trial.error is None and trial.reward is None:
        trial.error = "no reward: the verifier wrote none"
    if None in (trial.n_turns, trial.n_input_tokens, trial.n_output_tokens):
        try:
            turns, tokens_in, tokens_out = _trajectory_counts(trial_dir / "agent" / "trajectory.json")
        except (TypeError, AttributeError, ValueError):  # a malformed trajectory: its counts are unknown
            turns = tokens_in = tokens_out = None
        trial.n_turns = turns if trial.n_turns is None else trial.n_turns
        trial.n_input_tokens = tokens_in if trial.n_input_tokens is None else trial.n_input_tokens
        trial.n_output_tokens = tokens_out if trial.n_output_tokens is None else trial.n_output_tokens
    task_path = result.get("task_path") or _dig(result, "config", "task", "path") or _dig(result, "task_id", "path")
    trial.domain = trial.domain or (_task_domain(str(task_path)) if task_path else None)
    return trial


def _reward(result: dict) -> float | None:
    if isinstance(result.get("reward"), (int, float)):
        return float(result["reward"])
    rewards = _dig(result, "verifier_result", "rewards") or {}
    # Harbor's main reward is named "reward"; a reward.json with only other keys is averaged
    values = [rewards["reward"]] if "reward" in rewards else list(rewards.values())
    values = [float(v) for v in values if isinstance(v, (int, float))]
    return sum(values) / len(values) if values else None


def _error(result: dict) -> str | None:
    info = result.get("exception_info")
    if not isinstance(info, dict):
        return None
    lines = str(info.get("exception_message") or "").strip().splitlines()
    kind = info.get("exception_type") or "Exception"
    return f"{kind}: {lines[0]}" if lines else kind


def _trajectory_counts(path: Path) -> tuple[int | None, int | None, int | None]:
    """Tool calls and token totals from tmax's trajectory.json or Harbor's ATIF one."""
    data = read_json_or_none(path) if path.is_file() else None
    if not isinstance(data, dict):
        return None, None, None
    if isinstance(data.get("n_tool_calls"), int):  # tmax before ATIF
        return data["n_tool_calls"], None, None
    own = _dig(data, "extra", "tmax") or {}
    steps = [s for s in data.get("steps") or [] if isinstance(s, dict) and s.get("source") == "agent"
             and not s.get("is_copied_context")]  # copied context: an earlier trajectory's turns
    # agents acting through tool calls count those; others (keystroke turns) count their steps
    calls = [len(s.get("tool_calls") or []) for s in steps if "tool_calls" in s]
    turns = sum(calls) if calls else (len(steps) if "steps" in data else None)
    if isinstance(own.get("n_tool_calls"), int):  # tmax's ATIF: commands run, the submission not counted
        turns = own["n_tool_calls"]
    final = data.get("final_metrics") if isinstance(data.get("final_metrics"), dict) else {}
    return turns, final.get("total_prompt_tokens"), final.get("total_completion_tokens")


@lru_cache(maxsize=None)
def _task_domain(task_path: str) -> str | None:
    """The domain (or Harbor's category) in the task's own task.toml, when that dir is here."""
    try:
        meta = tomllib.loads((Path(task_path) / "task.toml").read_text()).get("metadata") or {}
    except (OSError, ValueError):
        return None
    return meta.get("domain") or meta.get("category")


@dataclass
class ModelSummary:
    label: str
    attempts: dict[str, list[Trial]]  # task -> its attempts in run order, padded to every run
    n_trials: int
    run_scores: list[float]
    mean: float
    sem: float
    pass_at: dict[int, float]
    model: str = ""
    harness: str = "tmax"

    @property
    def errors(self) -> list[Trial]:
        return [t for ts in self.attempts.values() for t in ts if t.error]

    def to_dict(self) -> dict:
        """The numbers ``tmax eval`` stores in job.json."""
        return {"model": self.label, "harness": self.harness, "n_runs": len(self.run_scores), "n_tasks": len(self.attempts),
                "n_trials": self.n_trials, "run_scores": self.run_scores, "mean": self.mean, "sem": self.sem,
                "pass_at_k": {str(k): v for k, v in self.pass_at.items()},
                "solve_rate": {task: self.solve_rate(task) for task in self.attempts},
                "errors": [{"trial": t.name, "task": t.task, "error": t.error} for t in self.errors]}

    def solve_rate(self, task: str) -> float:
        return sum(t.solved for t in self.attempts[task]) / len(self.attempts[task])

    def per_trial(self, name: str) -> list[float]:
        """Known values of a per-trial count (n_turns, n_input_tokens, n_output_tokens)."""
        values = (getattr(t, name) for ts in self.attempts.values() for t in ts if t.error != MISSING)
        return [float(v) for v in values if isinstance(v, (int, float))]


def summarize(jobs: list[Job]) -> list[ModelSummary]:
    """One summary per model and harness, best mean score first. The label is the model's, with
    the harness added where the model ran under several."""
    grouped: dict[tuple[str, str], dict[str, list[Trial]]] = defaultdict(lambda: defaultdict(list))
    for job in jobs:  # in the order given: a later job dir's attempts follow an earlier one's
        for t in sorted(job.trials, key=lambda t: (t.attempt or 0, t.name)):
            grouped[t.model, t.harness][t.task].append(t)
    n_harnesses = defaultdict(int)
    for model, _ in grouped:
        n_harnesses[model] += 1
    summaries = []
    for (model, harness), by_task in grouped.items():
        label = model if n_harnesses[model] == 1 else f"{model} ({harness})"
        n_runs = max(map(len, by_task.values()))
        attempts = {task: ts + [Trial(task, "", len(ts) + i, None, MISSING, label) for i in range(n_runs - len(ts))]
                    for task, ts in sorted(by_task.items())}
        runs = [run_score(ts[k].reward for ts in attempts.values()) for k in range(n_runs)]
        ks = sorted({1, 2 ** (n_runs.bit_length() - 1)})  # 1 and the largest power of two available
        successes = {task: [t.solved for t in ts] for task, ts in attempts.items()}
        summaries.append(ModelSummary(label, attempts, sum(map(len, by_task.values())), runs, *mean_sem(runs),
                                      {k: mean_pass_at_k(successes, k) for k in ks}, model, harness))
    return sorted(summaries, key=lambda s: (-s.mean, s.label))


def find_jobs(paths: list[Path]) -> list[Path]:
    """The job dirs named, a folder of job dirs (such as ``jobs/``) standing for all of them."""
    found = []
    for path in map(Path, paths):
        inner = (sorted(d for d in path.iterdir() if d.is_dir() and _layout(d))
                 if path.is_dir() and not _layout(path) else [])
        found += inner or [path]  # nothing inside: load_job says what is wrong with it
    return found


def write_report(job_dirs: list[Path], out: Path) -> Path:
    """Write ``out/report.md`` and its PNG plots; return the Markdown file's path."""
    from tmax.eval import plots  # matplotlib loads only when a report is drawn

    jobs = [load_job(p) for p in find_jobs(job_dirs)]
    if not any(job.trials for job in jobs):
        raise ConfigError("no trial dirs (<task>__<id>/result.json) inside", where=", ".join(str(j.path) for j in jobs),
                          fix="run an evaluation first, or point at the job dirs it wrote")
    summaries = summarize(jobs)
    tasks = sorted({task for s in summaries for task in s.attempts})
    Path(out).mkdir(parents=True, exist_ok=True)
    made = plots.make_all(summaries, tasks, Path(out))
    path = Path(out) / "report.md"
    path.write_text(render(jobs, summaries, tasks, made))
    return path


def _num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def _count(x: float | None) -> str:
    scaled = next(((x / d, unit) for d, unit in ((1e6, "M"), (1e3, "k")) if x and x >= d), (x, ""))
    return "–" if x is None else f"{scaled[0]:.3g}{scaled[1]}"


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _table(header: list[str], rows: list[list]) -> str:
    """A GitHub Markdown table: one-line cells, pipes escaped, numeric columns right-aligned."""
    def cell(value) -> str:
        text = " ".join(str(value).split())
        return (text if len(text) <= 160 else text[:157] + "...").replace("|", "\\|")
    rows = [[cell(c) for c in row] for row in rows]
    numeric = [i > 0 and all(re.match(r"[\d.–]", row[i]) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "".join("---:|" if n else "---|" for n in numeric)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _summary_rows(summaries: list[ModelSummary], ks: list[int]) -> list[list]:
    return [[s.label, len(s.run_scores), len(s.attempts), s.n_trials, len(s.errors), f"{_num(s.mean)} ± {_num(s.sem)}",
             *[_num(s.pass_at.get(k)) for k in ks], _num(_mean(s.per_trial("n_turns")), 1),
             " / ".join(_count(_mean(s.per_trial(n))) for n in ("n_input_tokens", "n_output_tokens"))]
            for s in summaries]


def _domain_rows(summaries: list[ModelSummary], tasks: list[str]) -> list[list]:
    """Mean reward (errors 0) over each model's trials of each domain's tasks."""
    domain_of = {}
    for s in summaries:
        for task, ts in s.attempts.items():
            domain_of[task] = domain_of.get(task) or next((t.domain for t in ts if t.domain), None)
    rows = []
    for domain in sorted({d for d in domain_of.values() if d}):
        members = [t for t in tasks if domain_of.get(t) == domain]
        rewards = [[t.reward or 0.0 for task in members for t in s.attempts.get(task, [])] for s in summaries]
        rows.append([domain, len(members), *[_num(_mean(r)) for r in rewards]])
    return rows


def _harness_rows(summaries: list[ModelSummary], harnesses: list[str]) -> list[list]:
    cells = {(s.model, s.harness): f"{_num(s.mean)} ± {_num(s.sem)} (n={s.n_trials})" for s in summaries}
    models = list(dict.fromkeys(s.model for s in summaries))  # best first, as the summaries
    return [[m, *[cells.get((m, h), "–") for h in harnesses]] for m in models]


def render(jobs: list[Job], summaries: list[ModelSummary], tasks: list[str], plots: dict[str, str]) -> str:
    """The whole report.md: summary, per-run, per-domain and per-task tables, plots, errors."""
    ks, labels = sorted({k for s in summaries for k in s.pass_at}), [s.label for s in summaries]
    n_runs = max(len(s.run_scores) for s in summaries)
    images = [f"![{name}]({file})" for name, file in plots.items()]  # the score plot first
    md = [f"# Evaluation report\n\n{len(jobs)} job dir(s), {sum(len(j.trials) for j in jobs)} trials, "
          f"{len({s.model for s in summaries})} model(s), {len({s.harness for s in summaries})} harness(es), "
          f"{len(tasks)} task(s); written {datetime.now():%Y-%m-%d %H:%M}.\n\n"
          "Score: mean reward over every task of a run, an errored or missing trial counting 0; mean ± standard "
          "error over runs (run k = the k-th attempt at every task). pass@k: unbiased estimator over each task's "
          "attempts, success = reward 1. Turns: tool calls per trial.",
          "## Summary", _table(["model", "runs", "tasks", "trials", "errors", "score (mean ± SEM)",
                                *[f"pass@{k}" for k in ks], "mean turns", "mean tokens in / out"],
                               _summary_rows(summaries, ks)),
          _table(["model", *[f"run {k + 1}" for k in range(n_runs)]],
                 [[s.label, *[_num(s.run_scores[k]) if k < len(s.run_scores) else "–" for k in range(n_runs)]]
                  for s in summaries]), *images[:1]]
    harnesses = sorted({s.harness for s in summaries}, key=lambda h: (h != "tmax", h))
    if harnesses != ["tmax"]:
        md += ["## Models × harnesses\n\nScore (mean ± SEM over runs, as above) of each model under each agent loop, "
               "n = trials; – where the model did not run under that harness.",
               _table(["model", *harnesses], _harness_rows(summaries, harnesses))]
    domain_rows = _domain_rows(summaries, tasks)
    if domain_rows:
        md += ["## Per domain\n\nMean reward over each model's trials of the domain's tasks (errors count 0).",
               _table(["domain", "tasks", *labels], domain_rows)]
    md += ["## Per task\n\nSolve rate (solved / attempts) per model; – where the model did not run the task.",
           _table(["task", *labels], [[task, *[f"{s.solve_rate(task):.2f} ({sum(t.solved for t in s.attempts[task])}"
                                               f"/{len(s.attempts[task])})" if task in s.attempts else "–"
                                               for s in summaries]] for task in tasks]), *images[1:]]
    errors = [[s.label, t.task, run + 1, t.name or "–", t.error] for s in summaries
              for ts in s.attempts.values() for run, t in enumerate(ts) if t.error]
    md += ["## Errored trials\n\nEach counts 0 in the scores above.",
           _table(["model", "task", "run", "trial", "error"], errors) if errors else "None.",
           "## Job dirs", _table(["job dir", "layout", "models", "trials", "errors"],
                                 [[j.path, j.layout, ", ".join(sorted({t.model for t in j.trials})) or "–",
                                   len(j.trials), sum(bool(t.error) for t in j.trials)] for j in jobs])]
    return "\n\n".join(md) + "\n"
