"""Tiny models for CPU work: a byte-level BPE tokenizer trained here and a small Qwen3 model.

Nothing is downloaded. The tokenizer is trained on text tmax itself uses (its prompts, the
example tasks, a set of shell commands) and carries a Qwen-style chat template with the same
special tokens as Qwen3 (``<|im_start|>``, ``<|im_end|>``, ``<tool_call>``, ...), so the
harness, parsers and token bookkeeping see the shapes a real model produces. The model is a
randomly initialised ``Qwen3ForCausalLM`` built from a config; with a seed the result is
identical on every machine. ``ensure_tiny_model()`` caches it under ``$TMAX_CACHE/models``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

# vLLM's CPU attention kernels take head sizes of 32 and up; every tiny model must be servable
# by vLLM (in-process and over HTTP), so narrower heads are refused at config time.
MIN_HEAD_DIM = 32

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>",
                  "<tool_response>", "</tool_response>", "<think>", "</think>"]

# Qwen-style: one <|im_start|>role ... <|im_end|> block per message; tool results go back in a
# user turn wrapped in <tool_response>; assistant tool_calls (OpenAI form, arguments as a dict)
# render as Qwen3 XML. Tools given to apply_chat_template(tools=...) open the system turn as
# a "# Tools" section (their JSON schemas and the call format), before the system message.
CHAT_TEMPLATE = (
    "{%- set first_system = messages and messages[0].role == 'system' %}"
    "{%- if tools %}"
    "{{- '<|im_start|>system\\n# Tools\\n\\nYou may call these functions:\\n<tools>' }}"
    "{%- for tool in tools %}{{- '\\n' + (tool | tojson) }}{%- endfor %}"
    "{{- '\\n</tools>\\n\\nTo call a function, reply with:\\n<tool_call>\\n<function=NAME>\\n"
    "<parameter=ARGUMENT>\\nVALUE\\n</parameter>\\n</function>\\n</tool_call>' }}"
    "{%- if first_system %}{{- '\\n\\n' + messages[0].content }}{%- endif %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for m in messages %}"
    "{%- if tools and loop.first and first_system %}"
    "{%- elif m.role == 'tool' %}"
    "{{- '<|im_start|>user\\n<tool_response>\\n' + m.content + '\\n</tool_response><|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + m.role + '\\n' + (m.content or '') }}"
    "{%- for call in (m.tool_calls or []) %}"
    "{{- '\\n<tool_call>\\n<function=' + call.function.name + '>\\n' }}"
    "{%- if call.function.arguments is mapping %}"
    "{%- for key, value in call.function.arguments.items() %}"
    "{{- '<parameter=' + key + '>\\n' + (value if value is string else value | tojson) + '\\n</parameter>\\n' }}"
    "{%- endfor %}"
    "{%- else %}{{- call.function.arguments + '\\n' }}{%- endif %}"
    "{{- '</function>\\n</tool_call>' }}"
    "{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

_SHELL_LINES = [
    "ls -la", "cd /app && ls", "cat README.md", "grep -rn 'error' /var/log", "wc -l data.csv",
    "python3 -c 'print(1 + 1)'", "find . -name '*.py' | head", "sed -n '1,20p' main.py",
    "awk -F, '{s += $2} END {print s}' data.csv", "sort | uniq -c | sort -rn", "echo done > /app/out.txt",
    "pip install numpy", "git status", "make test", "pytest -q", "chmod +x run.sh && ./run.sh",
    "curl -s localhost:8000/health", "tar xzf archive.tar.gz", "jq '.items[]' data.json", "ps aux",
]


class TinyConfig(BaseModel):
    vocab_size: int = Field(2048, ge=512, description="BPE vocabulary size (special tokens included).")
    hidden_size: int = Field(64, gt=0, description="Model width (num_heads x head_dim).")
    num_layers: int = Field(2, gt=0, description="Transformer layers.")
    num_heads: int = Field(2, gt=0, description="Attention heads; head_dim = hidden_size / num_heads >= 32.")
    num_kv_heads: int = Field(1, gt=0, description="Key/value heads (grouped-query attention).")
    max_positions: int = Field(16384, gt=0, description="Longest context.")
    seed: int = Field(0, description="Weight initialisation seed.")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @model_validator(mode="after")
    def _servable(self) -> TinyConfig:
        if self.hidden_size % self.num_heads or self.head_dim < MIN_HEAD_DIM:
            raise ValueError(f"hidden_size {self.hidden_size} / num_heads {self.num_heads} must be a whole head_dim "
                             f">= {MIN_HEAD_DIM} (vLLM's CPU attention needs it): use fewer heads or a wider model")
        if self.num_heads % self.num_kv_heads:
            raise ValueError(f"num_heads {self.num_heads} must be a multiple of num_kv_heads {self.num_kv_heads}")
        return self


def _corpus(extra: list[str] | None = None) -> list[str]:
    root = Path(__file__).resolve().parents[1]
    texts = [p.read_text() for p in sorted((root / "harness" / "templates").glob("*.j2"))]
    examples = root.parents[1] / "examples" / "tasks"
    if examples.is_dir():  # a source checkout; an installed wheel trains on the rest
        texts += [p.read_text(errors="replace") for p in sorted(examples.rglob("*")) if p.is_file()
                  and p.suffix in {".md", ".sh", ".py", ".toml", ""} and p.stat().st_size < 20000]
    calls = [f"<tool_call>\n<function=bash>\n<parameter=command>\n{line}\n</parameter>\n</function>\n</tool_call>"
             for line in _SHELL_LINES]
    return texts + calls * 4 + _SHELL_LINES * 8 + list(extra or [])


def train_tokenizer(config: TinyConfig, texts: list[str] | None = None):
    """A byte-level BPE tokenizer on tmax's own text plus ``texts`` (e.g. the training tasks'
    instructions and solutions, so their words are single tokens)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=config.vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(_corpus(texts), trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        additional_special_tokens=SPECIAL_TOKENS[1:])
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(out_dir: Path, config: TinyConfig | None = None, texts: list[str] | None = None) -> Path:
    """Train the tokenizer (on ``texts`` too), initialise the model, save both (transformers
    format) to ``out_dir``."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    config = config or TinyConfig()
    tokenizer = train_tokenizer(config, texts)
    model_config = Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=config.hidden_size, intermediate_size=config.hidden_size * 2,
        num_hidden_layers=config.num_layers, num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_kv_heads, head_dim=config.head_dim,
        max_position_embeddings=config.max_positions, tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"))
    torch.manual_seed(config.seed)
    model = Qwen3ForCausalLM(model_config)
    from tmax.engines.hf import save_model

    return save_model(model, tokenizer, out_dir, {"tmax_tiny.json": config.model_dump_json(indent=2)})


def ensure_tiny_model(config: TinyConfig | None = None) -> Path:
    """The cached tiny model for ``config`` (built on first use, ~2 s)."""
    from tmax.sandbox.base import cache_dir

    config = config or TinyConfig()
    # the template is part of the key: a cached model made with an older template is rebuilt
    key = hashlib.sha256((json.dumps(config.model_dump(), sort_keys=True) + CHAT_TEMPLATE).encode()).hexdigest()[:12]
    path = cache_dir() / "models" / f"tiny-{key}"
    if not (path / "tmax_tiny.json").exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        build_tiny_model(path, config)
    return path
