"""cron_jobs_for_service_users: turn plain-English schedules into a cron.d file run by new system users.

``test_task.py`` expands every cron line into its firing minutes of 2026 and compares them with
the intended schedule's."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_CRON_KINDS = [["daily", "minutes"], ["weekly", "monthly"], ["weekdays", "hour_range", "weekend"],
               ["business", "quarterly"]]  # the kinds each difficulty adds


def _cron_schedule(rng: random.Random, kind: str) -> tuple[str, str]:
    """(English schedule, an equivalent cron expression)."""
    h, m, n, d = rng.randint(0, 23), rng.randrange(0, 60, 5), rng.choice([5, 10, 15, 20, 30]), rng.randrange(7)
    a, s, day = rng.randint(5, 9), rng.choice([2, 3]), rng.randint(1, 28)
    lo, hi = rng.randint(7, 9), rng.randint(16, 18)
    b, at, every_n = a + s * rng.randint(3, 4), f"at {h:02d}:{m:02d}", f"every {n} minutes, starting on the hour"
    return {
        "daily": (f"every day {at}", f"{m} {h} * * *"),
        "minutes": (every_n, f"*/{n} * * * *"),
        "weekly": (f"every {_DAYS[d]} {at}", f"{m} {h} * * {d}"),
        "monthly": (f"on day {day} of every month {at}", f"{m} {h} {day} * *"),
        "weekdays": (f"Monday to Friday {at}", f"{m} {h} * * 1-5"),
        "weekend": (f"on Saturdays and Sundays {at}", f"{m} {h} * * 0,6"),
        "hour_range": (f"every {s} hours on the hour from {a:02d}:00 to {b:02d}:00 (both included), every day",
                       f"0 {a}-{b}/{s} * * *"),
        "business": (f"{every_n}, from {lo:02d}:00 to {hi:02d}:59, Monday to Friday", f"*/{n} {lo}-{hi} * * 1-5"),
        "quarterly": (f"on the 1st of January, April, July and October {at}", f"{m} {h} 1 1,4,7,10 *"),
    }[kind]


@family(name="cron_jobs_for_service_users", domain="system_administration", skill_type="users_and_access",
        verifier="fuzz_equivalence", fixture="text_only", language="bash",
        skills=("cron_scheduling", "create_users_groups", "file_permissions", "read_spec_document"),
        command_complexity="bash_only")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Turn plain-English job schedules into a /etc/cron.d file, creating the users they run as.
    Graded by comparing every firing minute of 2026 with the intended schedule. Knobs: jobs (3-6),
    schedule kinds (daily/interval, +weekly/monthly, +weekday/weekend/hour ranges, +business-hours/
    quarterly), service users (2+, with fixed uid/home/shell at 4), log redirection (3+), file mode
    (2+) and script permissions (4)."""
    n_jobs = 2 + difficulty
    kinds = [k for level in _CRON_KINDS[:difficulty] for k in level]
    chosen = (_CRON_KINDS[difficulty - 1] + [rng.choice(kinds) for _ in range(n_jobs)])[:n_jobs]
    names = rng.sample(["backup", "report", "sync", "cleanup", "reindex", "digest", "prune", "archive"], n_jobs)
    users = rng.sample(["opsbot", "reporter", "archivist", "datasync", "auditor", "batchrun"],
                       [0, 2, 3, 3][difficulty - 1]) or ["root"]
    uids = rng.sample(range(910, 990), len(users))
    user_spec = {u: ([uid, f"/var/lib/{u}", "/usr/sbin/nologin"] if difficulty >= 4 else [])
                 for u, uid in zip(users, uids) if u != "root"}
    cron_file = f"/etc/cron.d/{rng.choice(['ops-schedule', 'batch-jobs', 'maintenance', 'nightly-ops'])}"
    jobs, spec, files = {}, [], {}
    for i, (name, kind) in enumerate(zip(names, chosen)):
        phrase, expr = _cron_schedule(rng, kind)
        user = users[i % len(users)]
        cmd = f"/app/bin/{name}.sh" + (f" >> /var/log/{name}.log 2>&1" if difficulty >= 3 else "")
        jobs[name] = (expr, user, cmd)
        spec.append(f"job: {name}\nschedule: {phrase}\nuser: {user}\ncommand: {cmd}\n")
        files[f"environment/app/bin/{name}.sh"] = FILES.fill("app/bin/job.sh", name=name)
    files["environment/app/jobs.txt"] = "\n".join(spec)
    tasks = [f"- Write the cron table {cron_file} in the system cron.d format (`minute hour day-of-month month "
             "day-of-week user command`), one line per job in /app/jobs.txt, using the job's user and exactly its "
             "command. Use the five time fields (no `@` shortcuts); every job must fire exactly at the times its "
             "schedule describes (local time) and at no other time."]
    if user_spec:
        detail = ("with the uid given below, home directory `/var/lib/<name>` (it need not exist) and login shell "
                  "`/usr/sbin/nologin`: " + ", ".join(f"`{u}` uid {s[0]}" for u, s in user_spec.items())
                  if difficulty >= 4 else "(system users without a login shell are fine)")
        tasks.append(f"- Create the users the jobs run as, {detail}.")
        tasks.append(f"- {cron_file} must be owned by root with mode 0644.")
    if difficulty >= 4:
        tasks.append("- Make every script in /app/bin mode 0755.")
    instruction = ("/app/jobs.txt describes scheduled jobs (blocks of `job`, `schedule`, `user` and `command`).\n\n"
                   + "\n".join(tasks))
    useradds = "".join(
        "useradd --system --shell /usr/sbin/nologin"
        + (f" --uid {s[0]} --home-dir {s[1]}" if s else "") + f" {u}\n" for u, s in user_spec.items())
    solution = FILES.fill("solve.sh", useradds=useradds, cron_file=cron_file,
                          table="".join(f"{expr} {user} {cmd}\n" for expr, user, cmd in jobs.values()),
                          script_modes="chmod 0755 /app/bin/*.sh\n" if difficulty >= 4 else "")
    scripts = [f"/app/bin/{n}.sh" for n in names] if difficulty >= 4 else []
    data = {"path": cron_file, "jobs": jobs, "users": user_spec, "check_mode": bool(user_spec), "scripts": scripts}
    return TaskParts(instruction, FILES.fill("test_task.py", data=data), solution, files,
                     dockerfile_extra="RUN chmod 0644 /app/bin/*.sh" if scripts else "",
                     # the verifier sees these besides /app (it runs in a fresh sandbox)
                     artifacts=["/app", "/etc/cron.d"] + (["/etc/passwd", "/etc/group"] if user_spec else []),
                     knobs={"jobs": n_jobs, "schedule_kinds": len(kinds), "users": len(user_spec),
                            "log_redirect": difficulty >= 3, "fixed_uids_and_script_modes": difficulty >= 4})
