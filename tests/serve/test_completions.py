"""``/v1/completions``: token-id prompts and sampled ids (tmax's own token mode), echo, logprobs
consistent between sampling and scoring, streaming."""

from __future__ import annotations

from tmax.engines.base import SamplingParams
from tmax.engines.openai import OpenAIClient, OpenAITokenEngine


def test_token_mode_client_gets_ids_and_logprobs(tiny_server, tokenizer):
    engine = OpenAITokenEngine(OpenAIClient(tiny_server.url, "tiny"))
    prompt = tokenizer("ls -la", add_special_tokens=False)["input_ids"]
    [sample] = engine.generate([prompt], SamplingParams(max_tokens=8, seed=2))
    assert 0 < len(sample.token_ids) == len(sample.logprobs) <= 8 and sample.prompt_tokens == len(prompt)
    assert all(lp <= 0 for lp in sample.logprobs) and sample.finish_reason in ("stop", "length")


def test_echo_with_token_ids(tiny, tokenizer):
    prompt = tokenizer("cat README.md", add_special_tokens=False)["input_ids"]
    reply = tiny.completions.create(model="tiny", prompt=prompt, max_tokens=5, echo=True, logprobs=2, seed=4,
                                    extra_body={"return_token_ids": True, "skip_special_tokens": False})
    choice = reply.choices[0].model_dump()
    assert choice["text"].startswith("cat README.md") and choice["prompt_token_ids"] == prompt
    logprobs = choice["logprobs"]
    assert len(logprobs["tokens"]) == len(prompt) + len(choice["token_ids"]) == len(logprobs["token_logprobs"])
    assert logprobs["token_logprobs"][0] is None and logprobs["top_logprobs"][0] is None
    assert all(len(top) >= 2 for top in logprobs["top_logprobs"][1:])
    assert logprobs["text_offset"][:2] == [0, len(tokenizer.decode(prompt[:1]))]
    assert reply.usage.prompt_tokens == len(prompt) and reply.usage.completion_tokens == len(choice["token_ids"])


def test_scoring_the_sample_gives_the_engine_logprobs(tiny, tokenizer):
    """Logprobs after temperature: what the engine reported while sampling equals a scoring
    pass over the same tokens (echo with max_tokens 0)."""
    prompt = tokenizer("grep -rn error", add_special_tokens=False)["input_ids"]
    sampled = tiny.completions.create(model="tiny", prompt=prompt, max_tokens=6, temperature=0.7, seed=9, logprobs=0,
                                      extra_body={"return_token_ids": True}).choices[0].model_dump()
    scored = tiny.completions.create(model="tiny", prompt=prompt + sampled["token_ids"], max_tokens=0, echo=True,
                                     temperature=0.7, logprobs=0).choices[0]
    tail = scored.logprobs.token_logprobs[len(prompt):]
    assert max(abs(a - b) for a, b in zip(tail, sampled["logprobs"]["token_logprobs"])) < 1e-4


def test_streamed_completion_matches(tiny):
    whole = tiny.completions.create(model="tiny", prompt="ls", max_tokens=10, seed=5)
    chunks = list(tiny.completions.create(model="tiny", prompt="ls", max_tokens=10, seed=5, stream=True,
                                          stream_options={"include_usage": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == whole.choices[0].text
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_several_prompts_and_n(tiny):
    reply = tiny.completions.create(model="tiny", prompt=["ls", "pwd"], max_tokens=3, n=2)
    assert [c.index for c in reply.choices] == [0, 1, 2, 3] and reply.usage.completion_tokens <= 12
