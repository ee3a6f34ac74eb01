"""Rollouts for RL: groups of G episodes per task, sampled in real sandboxes, asynchronously.

A background thread keeps sampling groups while the trainer steps: it walks the tasks in a
seeded order (a new permutation each epoch; ``cursor`` counts tasks handed out), has a group
runner play G trials of each and queues the group with the policy version its episodes
started from. ``LocalGroups`` runs them here through the harness (``model_agent`` over the
in-process engine, batched across threads; ``concurrency // G`` groups at once, so their
episodes share engine batches); ``tmax.cluster.RayGroups`` sends them to rollout workers.
``collect`` pulls groups for one optimizer step:

- stale groups (sampled more than ``async_steps`` versions ago) are dropped and counted;
- groups whose rewards are all equal are skipped (active sampling) until ``tasks_per_step``
  informative groups are in hand, or ``max_pulls`` groups were looked at;
- infra-failed episodes (a trial error) stay in their group as ``None`` (no reward, no loss).

Every trial is a Harbor trial dir under ``<run_dir>/rollouts/``, itself a Harbor job dir (its
``config.json`` and ``result.json`` kept by ``tmax.trial.harbor_job.JobRecord``, open-ended), so
rollouts can be inspected (``harbor view``), reported on and turned into SFT data like any eval.
"""

from __future__ import annotations

import queue
import random
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tmax.engines.chat import TokenRecord
from tmax.rl.step import Group
from tmax.tasks import Task


def play_episode(task: Task, rollouts_dir: Path, agent, sandbox: str, trial_name: str, job=None
                 ) -> tuple[TokenRecord | None, float | None]:
    """One trial of ``task`` by the policy agent: its token record (in memory, from the agent's
    outcome) and reward, or ``(None, None)`` when the trial failed for infrastructure reasons
    (masked: no reward, no loss). ``job`` (a ``JobRecord``) counts the trial into the rollouts
    dir's Harbor ``result.json``."""
    from tmax.io import read_json_or_none
    from tmax.trial import run_trial

    previous = read_json_or_none(rollouts_dir / trial_name / "result.json")  # a resumed run samples again
    # strict: a policy that learns to plant start-up hooks (.pth) on a writable root gets 0 for it
    summary = run_trial(task, rollouts_dir, agent=agent, backend=sandbox, trial_name=trial_name, agent_name="policy",
                        job_id=job.id if job else None, on_tampering="strict")
    if job is not None:
        job.add(read_json_or_none(summary.trial_dir / "result.json"), previous)
    record = summary.record
    if summary.error or summary.reward is None or record is None or not record.ids:
        return None, None
    return record, summary.reward


class LocalGroups:
    """Groups sampled in this process: G episodes in threads over the in-process engine
    (``tmax.cluster.RayGroups`` is the same protocol over Ray rollout workers)."""

    def __init__(self, new_policy, run_dir: Path, *, group_size: int, sandbox: str = "bwrap",
                 concurrency: int = 8, harness=None):
        from tmax.trial.agents import model_agent
        from tmax.trial.harbor_job import JobRecord, job_config
        from tmax.trial.harbor_result import agent_config, environment_config

        self.rollouts, self.group_size, self.sandbox = Path(run_dir) / "rollouts", group_size, sandbox
        self.job = JobRecord(self.rollouts, job_config(self.rollouts, tasks=[], n_attempts=group_size,
                                                       n_concurrent=concurrency, agent=agent_config("policy", None),
                                                       environment=environment_config(sandbox)))
        self.agent = model_agent(new_policy, harness)
        self.agent.__name__ = "policy"
        self.pool = ThreadPoolExecutor(concurrency)
        self.groups_in_flight = max(1, concurrency // group_size)

    def run_group(self, task: Task, index: int, version: int) -> Group:
        episodes = list(self.pool.map(lambda k: play_episode(task, self.rollouts, self.agent, self.sandbox,
                                                            f"{task.short_name}__t{index}g{k}", self.job), range(self.group_size)))
        return Group(task.name, [e[0] for e in episodes], [e[1] for e in episodes], [version] * self.group_size)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class RolloutSource:
    """Task order, groups in flight, staleness and active sampling over a group ``runner``
    (``LocalGroups`` or ``tmax.cluster.RayGroups``); ``version()`` is the engines' policy version."""

    def __init__(self, tasks: list[Task], runner, version, *, seed: int, cursor: int = 0, prefetch: int = 4):
        self.tasks, self.runner, self.version, self.seed = tasks, runner, version, seed
        self.groups_in_flight = runner.groups_in_flight
        self.cursor = cursor            # tasks handed to the producer so far
        self.consumed = cursor          # tasks whose groups reached the trainer (saved in checkpoints)
        self._queue: queue.Queue = queue.Queue(maxsize=prefetch)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._produce, name="tmax-rollouts", daemon=True)
        self._thread.start()

    def _task(self, index: int) -> Task:
        epoch, position = divmod(index, len(self.tasks))
        order = list(range(len(self.tasks)))
        random.Random(f"{self.seed}:{epoch}").shuffle(order)
        return self.tasks[order[position]]

    def _produce(self) -> None:
        try:
            self._produce_groups()
        except BaseException as exc:  # surfaced by collect(); a dead producer must not hang the trainer
            self._error = exc

    def _group(self, index: int) -> tuple[int, Group]:
        return index, self.runner.run_group(self._task(index), index, self.version())

    def _produce_groups(self) -> None:
        """Keep ``concurrency // group_size`` groups sampling at once (their episodes share the
        engine's batches) and queue them in task order."""
        in_flight: deque = deque()
        with ThreadPoolExecutor(self.groups_in_flight, thread_name_prefix="tmax-group") as groups:
            while not self._stop.is_set():
                while len(in_flight) < self.groups_in_flight:
                    in_flight.append(groups.submit(self._group, self.cursor))
                    self.cursor += 1
                item = in_flight.popleft().result()
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.5)
                        break
                    except queue.Full:
                        continue

    def collect(self, tasks_per_step: int, version: int, async_steps: int, max_pulls: int) -> tuple[list[Group], dict]:
        """Groups for the step at policy ``version``: up to ``tasks_per_step`` informative ones
        (then the all-equal ones pulled on the way, for the reward metrics; the step drops them)."""
        informative, flat = [], []
        info = {"n_pulled": 0, "n_stale": 0, "max_staleness": 0}
        while len(informative) < tasks_per_step and info["n_pulled"] < max_pulls:
            index, group = self._next()
            self.consumed = max(self.consumed, index + 1)
            info["n_pulled"] += 1
            staleness = version - min(group.versions)
            if staleness > async_steps:
                info["n_stale"] += 1
                continue
            info["max_staleness"] = max(info["max_staleness"], staleness)
            scored = [r for r in group.rewards if r is not None]
            (informative if len(scored) >= 2 and max(scored) > min(scored) else flat).append(group)
        info.update(n_informative=len(informative), n_zero_std=len(flat))
        return informative + flat, info

    def _next(self) -> tuple[int, Group]:
        while True:
            try:
                return self._queue.get(timeout=1.0)
            except queue.Empty:
                if self._error is not None:
                    raise RuntimeError(f"rollout sampling stopped: {self._error!r}") from self._error

    def close(self) -> None:
        self._stop.set()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._thread.join(timeout=600)
        self.runner.close()
