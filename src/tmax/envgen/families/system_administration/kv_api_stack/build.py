"""kv_api_stack: configure a TCP key-value service and its HTTP front end, and write the script
that starts them (the verifier runs it: no process of the agent's survives into verification).

``app/kvd.py`` and ``app/api.py`` are the two services as shipped (their docstrings document
settings and protocols); ``test_task.py`` checks them over TCP and HTTP."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)


def _stack_config(kv: dict, api: dict | None) -> str:
    text = "[kv]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items())
    return text + ("\n[api]\n" + "".join(f"{k} = {v}\n" for k, v in api.items()) if api else "")


@family(name="kv_api_stack", domain="system_administration", skill_type="service_management",
        verifier="multi_protocol", fixture="multi_service_compose", language="python",
        skills=("edit_ini_config", "supervise_process", "health_check_endpoint", "inspect_listening_ports",
                "tcp_line_protocol"),
        command_complexity="bash_code_services")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Fix the config of a TCP key-value service plus an HTTP front end and run both in the
    background; checked over TCP and HTTP. Knobs: wrong ports (1+), a wrong data path and backend
    host/port (2+), a missing [api] section and seed data split over files (3+), a password shared
    by both services and pid files (4)."""
    kv_port, api_port, *wrong = rng.sample(range(7000, 9990), 5)
    words = ["alpha", "berry", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
             "kestrel", "lumen", "marble", "nectar"]
    keys = [f"{w}_{rng.randint(10, 99)}" for w in rng.sample(words, 4 + 2 * difficulty)]
    values = {k: f"{rng.choice(words)}-{rng.getrandbits(24):06x}" for k in keys}
    password = f"pw{rng.getrandbits(32):08x}" if difficulty >= 4 else ""
    n_seed = 1 if difficulty <= 2 else 3
    files: dict[str, str | bytes] = {"environment/app/kvd.py": FILES.read("app/kvd.py"),
                                     "environment/app/api.py": FILES.read("app/api.py")}
    for i in range(n_seed):
        part = keys[i::n_seed]
        name = "seed.txt" if n_seed == 1 else f"seed-{i + 1}.txt"
        files[f"environment/app/data/{name}"] = "# key=value\n" + "".join(f"{k}={values[k]}\n\n" for k in part)
    broken_api = {"port": wrong[0], "kv_host": "127.0.0.1" if difficulty == 1 else "kvstore",
                  "kv_port": wrong[1] if difficulty == 1 else wrong[2]}
    files["environment/app/stack.ini"] = _stack_config(
        {"host": "127.0.0.1", "port": wrong[1],
         "data_file": "/app/data/seed.txt" if difficulty == 1 else "/app/seed.txt"},
        broken_api if difficulty <= 2 else None)
    data_file = "/app/data/seed.txt" if n_seed == 1 else "/app/kv-seed.merged"
    good_kv = {"host": "127.0.0.1", "port": kv_port, "data_file": data_file,
               **({"password": password} if password else {})}
    good_api = {"port": api_port, "kv_host": "127.0.0.1", "kv_port": kv_port,
                **({"kv_password": password} if password else {})}
    solution = FILES.fill("solve.sh", merge="cat /app/data/*.txt > /app/kv-seed.merged\n" if n_seed > 1 else "",
                          config=_stack_config(good_kv, good_api), kv_port=kv_port, api_port=api_port,
                          **{f"{svc}_pidfile": f"echo $! > /run/{svc}.pid\n" if difficulty >= 4 else ""
                             for svc in ("kvd", "api")})
    seed_text = ("the key-value pairs in /app/data/seed.txt" if n_seed == 1 else
                 "every key-value pair from all `*.txt` files in /app/data (kvd loads a single data file)")
    musts = [f"- kvd listens on 127.0.0.1 port {kv_port} and serves {seed_text}",
             f"- api listens on 127.0.0.1 port {api_port} and reads its data from that kvd"]
    if password:
        musts.append(f"- kvd requires the password `{password}`, and api authenticates to kvd with it")
        musts.append("- the process ID of kvd is in /run/kvd.pid and that of api in /run/api.pid")
    instruction = (
        "/app holds a two-service stack: `kvd.py`, a TCP key-value service with a line protocol, and `api.py`, an "
        "HTTP front end that looks values up in kvd. Both read /app/stack.ini; the docstring at the top of each "
        "program documents its settings, protocol and endpoints. The configuration is wrong"
        + (" and incomplete" if difficulty >= 3 else "") + ". Fix /app/stack.ini (and prepare data files if needed) "
        "so that:\n\n" + "\n".join(musts) + "\n\n"
        "Then write /app/start-stack.sh, a bash script that starts both services in the background with `python3` "
        "so that they keep running after it exits (for example with `setsid nohup ... &`), and run it. Processes "
        "you leave running are stopped when you finish; the checker runs `bash /app/start-stack.sh` and then "
        "checks the services on 127.0.0.1 with kvd's "
        "`GET`, `SET` and `COUNT` commands over TCP and api's `/health`, `/kv/<key>` and `/stats` endpoints over "
        "HTTP, as documented. You should not need to change kvd.py or api.py."
    )
    data = {"kv_port": kv_port, "api_port": api_port, "sample": {k: values[k] for k in rng.sample(keys, 3)},
            "n_keys": len(keys), "missing": "nokey_" + str(rng.randint(100, 999)),
            "new": [f"probe_{rng.randint(100, 999)}", f"set-{rng.getrandbits(24):06x}"], "password": password,
            "pidfiles": difficulty >= 4}
    return TaskParts(instruction, FILES.fill("test_task.py", data=data), solution, files,
                     knobs={"keys": len(keys), "seed_files": n_seed, "broken_settings": [3, 5, 7, 9][difficulty - 1],
                            "missing_api_section": difficulty >= 3, "password_pidfiles": difficulty >= 4})
