"""A ``VLLMEngine`` in a process of its own, driven over stdin/stdout (one JSON object a line).

vLLM may live in a second venv (``.venv-vllm``: its transformers pin differs from ``.venv``'s),
so the tests in ``.venv`` run the real engine here and compare what it returns with the
trainer's own code in their process. Started as
``python vllm_worker.py '{"model": DIR, "dtype": "float32", ...}'`` (the ``VLLMEngine``
arguments); then, per request line, one reply line:

    {"op": "info"}                                      -> {"max_model_len", "stop_ids", "dtype"}
    {"op": "generate", "prompts": [[ids]], "params": {SamplingParams}}
                                                        -> {"samples": [{token_ids, logprobs, finish_reason}]}
    {"op": "load_weights", "path": FILE.safetensors, "version": v}
                                                        -> {"seconds", "version"}
    {"op": "quit"}

Errors come back as {"error": "..."}. vLLM's own logs go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback


def main() -> None:
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever vLLM prints must not mix with the replies
    sys.stdout = sys.stderr

    from tmax.engines.base import SamplingParams
    from tmax.engines.vllm import VLLMEngine

    engine = VLLMEngine(**json.loads(sys.argv[1]))
    proto.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = handle(engine, request, SamplingParams)
        except Exception as exc:  # the test sees the engine's error, the worker keeps serving
            reply = {"error": f"{exc!r}\n{traceback.format_exc()}"}
        if reply is None:
            break
        proto.write(json.dumps(reply) + "\n")
    proto.flush()
    os._exit(0)  # vLLM's shutdown hooks take seconds and hold nothing worth flushing


def handle(engine, request: dict, SamplingParams) -> dict | None:
    op = request["op"]
    if op == "quit":
        return None
    if op == "info":
        return {"max_model_len": engine.max_model_len, "stop_ids": engine.stop_ids,
                "dtype": str(engine.llm.llm_engine.model_config.dtype)}
    if op == "generate":
        samples = engine.generate(request["prompts"], SamplingParams(**request["params"]))
        return {"samples": [{"token_ids": s.token_ids, "logprobs": s.logprobs, "finish_reason": s.finish_reason}
                            for s in samples]}
    if op == "load_weights":
        from safetensors.torch import load_file

        weights = load_file(request["path"])
        started = time.perf_counter()
        engine.load_weights(weights, version=request["version"])
        return {"seconds": time.perf_counter() - started, "version": engine.version}
    raise ValueError(f"unknown op {op!r}")


if __name__ == "__main__":
    main()
