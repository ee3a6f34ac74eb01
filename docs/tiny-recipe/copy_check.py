"""Did SFT teach the tiny model to copy? A teacher-forced check on the SFT data itself.

For every reference trajectory of the oracle job that writes its answer with ``echo VALUE >
/app/FILE.txt``, the model reads the trajectory up to that command and has to predict the
command's tokens one by one (each from the true prefix, no sampling). The turn counts as
right when every token is the model's top choice. Trajectories split into

- **look**: VALUE appeared in an earlier tool output, so the model can copy it;
- **guess**: it did not (a known-answer solution), so only memorising the training task helps.

A model that learned to copy gets nearly all "look" turns right; one that did not stays near its
"guess" rate. Runs in seconds, without sandboxes or sampling.

Usage: .venv/bin/python docs/tiny-recipe/copy_check.py RUN/sft/model RUN/jobs/oracle
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

ANSWER = re.compile(r"echo (\S+) > /app/\w+\.txt")


def answer_turn(messages: list[dict]) -> tuple[str, str] | None:
    """(assistant text that writes the answer, "look" or "guess"), or None."""
    seen = ""
    for message in messages:
        if message["role"] == "tool":
            seen += message.get("content") or ""
        elif message["role"] == "assistant":
            text = message.get("content") or ""
            match = ANSWER.search(text)
            if match:
                return text, "look" if match.group(1) in seen else "guess"
    return None


def check(model_dir: str, job: str) -> dict[tuple[str, str], list[bool]]:
    """(kind, look|guess) -> one bool per trajectory: the answer turn predicted exactly."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tmax.engines.chat import ChatRenderer
    from tmax.sft.data import collect, to_record

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    renderer = ChatRenderer(tokenizer)
    out: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for example in collect([Path(job)], min_tool_calls=0):
        found = answer_turn(example.messages)
        if found is None:
            continue
        text, branch = found
        ids = to_record(example, renderer).ids
        target = tokenizer(text, add_special_tokens=False)["input_ids"]
        start = next((i for i in range(1, len(ids) - len(target) + 1) if ids[i:i + len(target)] == target), None)
        if start is None:
            continue
        with torch.no_grad():
            predicted = model(torch.tensor([ids[:start + len(target)]])).logits[0].argmax(-1).tolist()
        right = all(predicted[i - 1] == ids[i] for i in range(start, start + len(target)))
        out[(example.task.rsplit("-", 2)[0], branch)].append(right)
    return out


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__.rsplit("Usage: ", 1)[1].strip())
    results = check(sys.argv[1], sys.argv[2])
    print(f"{sys.argv[1]}\n  kind           look (copyable)   guess (memorised)")
    for kind in sorted({k for k, _ in results}):
        cell = lambda xs: f"{sum(xs)}/{len(xs)}" if xs else "-"  # noqa: E731
        print(f"  {kind:14s} {cell(results[(kind, 'look')]):>15s}   {cell(results[(kind, 'guess')]):>17s}")


if __name__ == "__main__":
    main()
