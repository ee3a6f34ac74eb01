"""Token policies: a token engine as what the harness calls (``generate(messages) -> message``).

- ``TokenPolicy`` drives any token engine (``hf``, ``vllm``, ``openai`` completions) and keeps
  the episode's ``TokenRecord``: the prompt once, then per turn the sampled ids (mask 1, with
  logprobs) and the rendered new messages (mask 0). The harness must append each returned
  message unchanged; the policy checks that and refuses a rewritten history.
- ``token_policies`` makes them per episode over one shared engine (what the in-process
  engines, RL's trainers and rollout workers hand the harness).
- ``ScriptedEngine`` is a token engine that replays fixed token-id replies with given
  logprobs: a real engine for tests of the token bookkeeping.

Its chat counterpart, ``tmax.engines.openai.ChatPolicy``, sends the message list to an
OpenAI-compatible chat endpoint (any server, no token ids; the server renders the chat
template and parses tool calls). Both count usage (``prompt_tokens``, ``completion_tokens``,
``context_tokens``) and stop the episode with ``LimitsExceeded`` when the context budget is
spent.
"""

from __future__ import annotations

from collections.abc import Callable

from tmax.engines.base import Engine, Sample, SamplingParams
from tmax.engines.chat import ChatRenderer, TokenRecord
from tmax.harness.errors import LimitsExceeded


class TokenPolicy:
    def __init__(self, engine: Engine, renderer: ChatRenderer, params: SamplingParams | None = None,
                 *, max_context_tokens: int | None = None):
        self.engine, self.renderer = engine, renderer
        self.params = params or SamplingParams()
        self.max_context_tokens = max_context_tokens
        self.record = TokenRecord()
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0, "context_tokens": 0, "calls": 0}
        self._replies: list[dict] = []  # the messages this policy returned, to check the history
        self._seen = 0

    def _append_new_messages(self, messages: list[dict]) -> None:
        if not self.record.ids:
            self.record.add_context(self.renderer.prompt_ids(messages))
        else:
            last = messages[self._seen - 1] if self._seen <= len(messages) else None
            if last is not self._replies[-1]:
                raise ValueError("the conversation was changed behind the policy's back; token records "
                                 "need the harness to append each reply unchanged")
            self.record.add_context(self.renderer.continuation_ids(messages[self._seen:]))

    def generate(self, messages: list[dict]) -> dict:
        self._append_new_messages(messages)
        params = self.params
        if self.max_context_tokens is not None:
            room = self.max_context_tokens - len(self.record.ids)
            if room <= 0:
                raise LimitsExceeded(f"context budget ({self.max_context_tokens} tokens)")
            params = params.model_copy(update={"max_tokens": min(params.max_tokens, room)})
        sample: Sample = self.engine.generate([list(self.record.ids)], params)[0]
        self.record.add_sampled(sample.token_ids, sample.logprobs)
        if not self.renderer.ends_turn(sample.token_ids):  # cut off: close the turn (not trained on)
            self.record.add_context(self.renderer.end_of_turn_ids)
        self.usage["prompt_tokens"] += sample.prompt_tokens or len(self.record.ids) - len(sample.token_ids)
        self.usage["completion_tokens"] += len(sample.token_ids)
        self.usage["context_tokens"] = len(self.record.ids)
        self.usage["calls"] += 1
        reply = {"role": "assistant", "content": self.renderer.reply_text(sample.token_ids)}
        self._replies.append(reply)
        self._seen = len(messages) + 1
        return reply


def token_policies(engine: Engine, tokenizer, params: SamplingParams, *,
                   max_context_tokens: int | None) -> Callable[[], TokenPolicy]:
    """A fresh ``TokenPolicy`` per episode, all over one ``engine`` (an in-process one behind a
    ``Batcher``, an engine actor, or completions over HTTP) and one renderer of ``tokenizer``."""
    renderer = ChatRenderer(tokenizer)
    return lambda: TokenPolicy(engine, renderer, params, max_context_tokens=max_context_tokens)


class ScriptedEngine:
    """Replays ``replies`` (token-id lists, optionally with logprobs) in order, one per call,
    and records every prompt it was given."""

    def __init__(self, replies: list[list[int]], logprobs: list[list[float]] | None = None):
        self.replies = replies
        self.logprobs = logprobs or [[-0.5] * len(r) for r in replies]
        self.prompts: list[list[int]] = []

    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[Sample]:
        samples = []
        for prompt in prompts:
            i = len(self.prompts)
            if i >= len(self.replies):
                raise RuntimeError(f"scripted engine has only {len(self.replies)} replies")
            self.prompts.append(list(prompt))
            ids, lps = self.replies[i][:params.max_tokens], self.logprobs[i][:params.max_tokens]
            samples.append(Sample(list(ids), list(lps), "", "stop" if len(ids) == len(self.replies[i]) else "length",
                                  len(prompt)))
        return samples
