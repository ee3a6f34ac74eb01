"""OpenAI-compatible HTTP serving of an in-process engine (``tmax serve MODEL_DIR``):
chat completions, completions and the Responses API on Starlette + uvicorn. See README.md."""

from tmax.serve.app import ModelServer, build_app
from tmax.serve.model import HFScorer, ServedModel

__all__ = ["HFScorer", "ModelServer", "ServedModel", "build_app"]
