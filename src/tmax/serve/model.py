"""The served model: one engine behind a ``Batcher``, its tokenizer, and what every endpoint
asks of a generation.

``ServedModel.generate`` samples ``n`` continuations of one token-id prompt through the
engine protocol (the batcher merges concurrent requests into engine batches), cuts them at
stop strings, and returns ``Choice``s: the sampled ids with the engine's logprobs, the reply
text, the text each token added (for streaming), and with a ``Scorer`` the top logprobs.

The engine protocol returns whole samples, so a streamed reply is sent once it is sampled:
streaming changes the wire format, not the time to the first token.

Limits: ``max_tokens`` is capped by what is left of the model's context (the reply then ends
with ``length``); without one a reply may fill the context (as in vLLM) unless the server sets
``default_max_tokens``; a prompt that fills the context is refused with ``context_length_exceeded``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from tmax.engines.base import Engine, SamplingParams
from tmax.engines.batching import Batcher
from tmax.serve.errors import RequestError

TopLogprobs = list[tuple[int, float]]  # (token id, logprob), most likely first


class Scorer(Protocol):
    def score(self, ids: list[int], start: int, k: int, temperature: float) -> tuple[list[float], list[TopLogprobs]]:
        """For each position t >= start: log p(ids[t] | ids[:t]) and the k most likely tokens,
        under softmax(logits / temperature) (temperature 0 counts as 1)."""


class HFScorer:
    """A Scorer over a transformers causal LM: one teacher-forced forward pass."""

    def __init__(self, model):
        self.model = model

    def score(self, ids: list[int], start: int, k: int, temperature: float) -> tuple[list[float], list[TopLogprobs]]:
        import torch

        if start >= len(ids):
            return [], []
        device = next(self.model.parameters()).device
        with torch.no_grad():
            out = self.model(input_ids=torch.tensor([ids], device=device), logits_to_keep=len(ids) - start + 1)
        logits = out.logits[0, :-1].float() / (temperature or 1.0)  # [len(ids) - start, vocab]
        logp = torch.log_softmax(logits, -1)
        chosen = logp.gather(-1, torch.tensor(ids[start:], device=device)[:, None]).squeeze(-1).tolist()
        values, indices = logp.topk(k, -1) if k else (logp[:, :0], logp[:, :0].long())
        top = [list(zip(i, v)) for i, v in zip(indices.tolist(), values.tolist())]
        return chosen, top


@dataclass
class Choice:
    ids: list[int]  # sampled token ids (a closing stop token included)
    logprobs: list[float]  # the engine's, after temperature, one per id
    finish_reason: str  # "stop" (end of turn or a stop string) or "length"
    text: str  # what the reply says: stop token and stop string left out
    pieces: list[str]  # the text each id added; "".join(pieces) == text
    top: list[TopLogprobs] | None = None  # per id, the most likely tokens (with top logprobs asked for)


def _pieces(tokenizer, ids: list[int], skip_special: bool) -> list[str]:
    """The text each token adds, decoding a short window at a time; a token that ends inside a
    multi-byte character adds nothing until the character is complete."""
    pieces, prefix, read = [], 0, 0
    for i in range(len(ids)):
        before = tokenizer.decode(ids[prefix:read], skip_special_tokens=skip_special)
        now = tokenizer.decode(ids[prefix:i + 1], skip_special_tokens=skip_special)
        if now.endswith("\ufffd"):
            pieces.append("")
            continue
        pieces.append(now[len(before):])
        prefix, read = read, i + 1
    if read < len(ids):  # the reply itself ends in a broken character: the last token says it
        before = tokenizer.decode(ids[prefix:read], skip_special_tokens=skip_special)
        pieces[-1] += tokenizer.decode(ids[prefix:], skip_special_tokens=skip_special)[len(before):]
    return pieces


def _stop_at(pieces: list[str], stop: list[str]) -> tuple[int | None, str]:
    """How many tokens it takes until a stop string has been written (None: never), and that text."""
    seen = ""
    for k, piece in enumerate(pieces, 1):
        seen += piece
        if any(s in seen for s in stop):
            return k, seen
    return None, seen


def _clip(pieces: list[str], length: int) -> list[str]:
    out, used = [], 0
    for piece in pieces:
        piece = piece[:max(0, length - used)]
        out.append(piece)
        used += len(piece)
    return out


class ServedModel:
    def __init__(self, engine: Engine, tokenizer, name: str, *, max_context: int | None = None,
                 scorer: Scorer | None = None, max_batch: int = 16, default_max_tokens: int | None = None):
        self.batcher = Batcher(engine, max_batch=max_batch)
        self.tokenizer, self.name, self.max_context = tokenizer, name, max_context
        self.scorer, self.default_max_tokens = scorer, default_max_tokens
        self.special_ids = set(tokenizer.all_special_ids)

    def close(self) -> None:
        self.batcher.close()

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []

    def decode(self, ids: list[int], *, skip_special: bool = False) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=skip_special)

    def check_room(self, prompt_tokens: int, param: str) -> int | None:
        """Tokens left for the reply (None: no known limit); a 400 when there are none."""
        room = None if self.max_context is None else self.max_context - prompt_tokens
        if room is not None and room <= 0:
            raise RequestError(f"the prompt is {prompt_tokens} tokens but the model's context is {self.max_context} "
                               "tokens; shorten the input or serve a model with more positions",
                               param=param, code="context_length_exceeded")
        return room

    def params(self, prompt_tokens: int, *, temperature: float | None, top_p: float | None,
               max_tokens: int | None, seed: int | None, param: str) -> SamplingParams:
        """Sampling parameters for a prompt of ``prompt_tokens``, ``max_tokens`` capped by the
        context left (``param`` names the prompt field in the error when nothing is left)."""
        room = self.check_room(prompt_tokens, param)
        wanted = max_tokens or self.default_max_tokens or room or 4096  # as vLLM: the rest of the context
        try:
            return SamplingParams(temperature=1.0 if temperature is None else temperature,
                                  top_p=1.0 if top_p is None else top_p, seed=seed,
                                  max_tokens=wanted if room is None else min(wanted, room))
        except ValidationError as exc:
            raise RequestError(f"bad sampling parameters: {exc.errors()[0]['msg']}") from None

    def require_scorer(self, param: str) -> None:
        if self.scorer is None:
            raise RequestError(f"`{param}` needs logprobs of tokens the model did not sample, which this engine "
                               "does not report (the hf engine does)", param=param)

    def generate(self, prompt: list[int], params: SamplingParams, *, n: int = 1, stop: list[str] | None = None,
                 top_k: int = 0, skip_special: bool = False) -> list[Choice]:
        """``n`` replies to ``prompt`` (blocking; call from a worker thread)."""
        if not prompt:
            raise RequestError("the prompt is empty", param="prompt")
        if top_k:
            self.require_scorer("top_logprobs")
        samples = self.batcher.generate([prompt] * n, params)
        choices = [self._choice(s.token_ids, s.logprobs, s.finish_reason, stop or [], skip_special) for s in samples]
        if top_k:
            for choice in choices:
                choice.top = self.scorer.score(prompt + choice.ids, len(prompt), top_k, params.temperature)[1]
        return choices

    def prompt_logprobs(self, prompt: list[int], top_k: int, temperature: float) -> tuple[list, list]:
        """Logprobs of the prompt's own tokens (``echo``); the first token has none."""
        self.require_scorer("echo")
        chosen, top = self.scorer.score(prompt, 1, top_k, temperature)
        return [None, *chosen], [None, *top]

    def _choice(self, ids: list[int], logprobs: list[float], finish: str, stop: list[str],
                skip_special: bool) -> Choice:
        ids, logprobs = list(ids), list(logprobs)
        closing = finish == "stop" and bool(ids) and ids[-1] in self.special_ids
        body = ids[:-1] if closing else ids
        pieces = _pieces(self.tokenizer, body, skip_special)
        text = "".join(pieces)
        end, seen = _stop_at(pieces, [s for s in stop if s])
        if end is not None:  # keep the tokens up to the one that completes a stop string; the text ends before it
            cut = min(i for i in (seen.find(s) for s in stop if s) if i >= 0)
            ids, logprobs, pieces, text, finish = ids[:end], logprobs[:end], pieces[:end], seen[:cut], "stop"
        elif closing:
            pieces.append("")
        return Choice(ids, logprobs, finish, text, _clip(pieces, len(text)))
