"""The LLM task writer against a real HTTP server on loopback whose model is scripted: the
server renders the chat, the scripted engine answers with canned task bundles."""

from __future__ import annotations

import json

import pytest

from tmax.envgen.llm import BundleError, generate, parse_bundle

GOOD = """Here is the task.
=== FILE: instruction.md ===
Write the word `hello` followed by a newline to /app/out.txt.
=== FILE: environment/Dockerfile ===
```dockerfile
FROM localhost/tmax/base:bookworm
WORKDIR /app
```
=== FILE: tests/test.sh ===
cd /tests && python3 /tests/test_task.py
=== FILE: tests/test_task.py ===
from tmax_verify import Grader
g = Grader()
g.gate("out.txt exists", g.read("/app/out.txt") is not None)
g.exact_text("hello", "/app/out.txt", "hello\\n")
g.finish()
=== FILE: solution/solve.sh ===
echo hello > /app/out.txt
=== END ===
"""
BAD_BUILD = GOOD.replace("WORKDIR /app", "WORKDIR /app\nRUN echo broken && exit 3")


def test_parse_repairs_and_rejects():
    files = parse_bundle(GOOD)
    # fence removed; tmax's local base (which no Harbor user can pull) becomes the public one
    assert files["environment/Dockerfile"].startswith("FROM debian:bookworm-slim\nENV LANG=C.UTF-8")
    assert "localhost/tmax" not in files["environment/Dockerfile"]
    assert files["environment/Dockerfile"].endswith("WORKDIR /app\n")
    assert files["tests/test.sh"].startswith("#!/bin/bash\n") and files["solution/solve.sh"].startswith("#!")
    with pytest.raises(BundleError, match="missing or empty: solution/solve.sh"):
        parse_bundle(GOOD.split("=== FILE: solution/solve.sh ===")[0])
    with pytest.raises(BundleError, match="not allowed"):
        parse_bundle(GOOD.replace("tests/test_task.py", "../evil.py"))
    with pytest.raises(BundleError, match="no `=== FILE"):
        parse_bundle("I would rather not.")


def test_writer_keeps_a_buildable_task_and_rejects_a_broken_one(tokenizer, podman_image, tmp_path):
    from tmax.engines.openai import OpenAIClient
    from tmax.engines.token_policy import ScriptedEngine
    from tmax.serve import ModelServer
    from tmax.tasks import load_task

    eot = tokenizer.convert_tokens_to_ids("<|im_end|>")
    replies = ["Sorry, no files today.", GOOD, BAD_BUILD]
    engine = ScriptedEngine([tokenizer(r, add_special_tokens=False)["input_ids"] + [eot] for r in replies])
    with ModelServer(engine, tokenizer, "writer", port=0) as server:
        client = OpenAIClient(server.url, "writer")
        outcomes = sorted(generate(2, tmp_path, client, seed=1, concurrency=1, validate_oracle=True),
                          key=lambda o: o.name)
    assert [(o.kept, o.attempts) for o in outcomes] == [(True, 2), (False, 1)]
    kept, rejected = outcomes
    assert kept.reason == "builds and the oracle scores 1"
    task = load_task(tmp_path / kept.name)
    assert task.metadata["generator"] == "llm" and task.metadata["domain"] and len(task.metadata["skills"]) >= 3
    assert rejected.reason.startswith("does not build") and 'STEP "RUN echo broken && exit 3"' in rejected.reason
    assert (tmp_path / "_rejected" / rejected.name / "REJECTED.txt").read_text().startswith("does not build")
    log = json.loads((tmp_path / "_logs" / f"{kept.name}.json").read_text())
    assert len(log["replies"]) == 2 and log["usage"]["completion_tokens"] > 0 and "domain:" in log["prompt"]
    assert len(engine.prompts) == 3  # one re-ask after the unusable reply
    # resumable: a second run asks for nothing
    again = generate(2, tmp_path, OpenAIClient("http://127.0.0.1:9/v1", "writer", retries=0), seed=1)
    assert again == []
