"""Did SFT teach the tiny model to copy? A teacher-forced check on the SFT data itself.

Two copies decide a starter exploration task, and this checks both on the oracle job's own
trajectories (the model reads the true prefix and must predict the next token; top choice, no
sampling):

- **answer**: in every trajectory that writes its answer with ``echo VALUE > /app/FILE.txt``,
  every token of that command. Trajectories split into **look** (VALUE appeared in an earlier
  tool output, so the model can copy it) and **guess** (it did not: a known-answer solution,
  so only memorising the training task helps). A model that learned to copy gets nearly all
  "look" turns right; one that did not stays near its "guess" rate.
- **name**: in the looking trajectories, each time a command before the answer spells the
  folder, script or file the instruction named (``ls /app/items``, ``bash /app/helper``,
  ``cat /app/secret/notes.txt``), the name's token. Every layout holds three such names, so a model that does not
  copy the name from the instruction or from its previous command is right about 1 time in 3.

Runs in seconds, without sandboxes or sampling.

Usage: .venv/bin/python docs/tiny-recipe/copy_check.py RUN/sft/model RUN/jobs/oracle
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

ANSWER = re.compile(r"echo (\S+) > /app/\w+\.txt")
NAME = re.compile(r"/app/(?:secret/)?(\w+)")  # the folder, script or file a task names


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


def _find(ids: list[int], target: list[int], start: int = 1) -> int | None:
    return next((i for i in range(start, len(ids) - len(target) + 1) if ids[i:i + len(target)] == target), None)


def check(model_dir: str, job: str) -> dict[tuple[str, str], list[bool]]:
    """(kind, look|guess|name) -> one bool per answer turn (look, guess) or per named name."""
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
        kind = example.task.rsplit("-", 2)[0]
        ids = to_record(example, renderer).ids
        target = tokenizer(text, add_special_tokens=False)["input_ids"]
        start = _find(ids, target)
        if start is None:
            continue
        with torch.no_grad():
            predicted = model(torch.tensor([ids])).logits[0].argmax(-1).tolist()
        right = lambda i: predicted[i - 1] == ids[i]  # noqa: E731  token i from the true prefix
        out[(kind, branch)].append(all(right(i) for i in range(start, start + len(target))))
        if branch == "guess":
            continue
        instruction = next(m["content"] for m in example.messages if m["role"] == "user")
        named = NAME.search(instruction).group(1)  # the instruction names it first, then the answer file
        position = 1
        for message in example.messages:
            if message["role"] != "assistant":
                continue
            command = message.get("content") or ""
            if command == text:
                break  # the answer turn: the looking is over
            turn = tokenizer(command, add_special_tokens=False)["input_ids"]
            at = _find(ids, turn, position)
            if at is None:
                continue
            position = at + len(turn)
            for j, token in enumerate(turn):
                if tokenizer.decode([token]) == named:
                    out[(kind, "name")].append(right(at + j))
    return out


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__.rsplit("Usage: ", 1)[1].strip())
    results = check(sys.argv[1], sys.argv[2])
    print(f"{sys.argv[1]}\n  kind           answer: look (copyable)   guess (memorised)   name (looking)")
    for kind in sorted({k for k, _ in results}):
        cell = lambda xs: f"{sum(xs)}/{len(xs)}" if xs else "-"  # noqa: E731
        print(f"  {kind:14s} {cell(results[(kind, 'look')]):>23s}   {cell(results[(kind, 'guess')]):>17s}"
              f"   {cell(results[(kind, 'name')]):>14s}")


if __name__ == "__main__":
    main()
