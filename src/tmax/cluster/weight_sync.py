"""Weight sync by broadcast: trainer rank 0 sends every tensor straight to the engines.

The default sync (``cluster.weight_sync = "object_store"``) puts the full state dict in Ray's
object store and every engine reads it from there: simple, works everywhere, but the tensors
go through host memory and, across nodes, through Ray's transfer. ``"broadcast"`` instead
joins trainer rank 0 and the engine actors in a process group of their own (rank 0 is its
source; NCCL between GPUs, gloo on CPUs) and broadcasts the tensors one by one, in name order,
into buffers the engines allocate from the shapes rank 0 announced when the group was made.

The group is separate from the trainer's FSDP group: it is built from a ``TCPStore`` and a
process-group object directly, so neither side needs ``init_process_group`` for it.

Through the object store, tensors travel as numpy arrays (``to_arrays``/``from_arrays``): Ray
stores those without pickling their data and hands readers zero-copy views of its shared
memory, where pickled torch tensors would be copied on every put and every get (bf16, which
numpy lacks, travels as int16 bits).
"""

from __future__ import annotations

import datetime

import torch


def _process_group(store, rank: int, size: int, backend: str, timeout: datetime.timedelta):
    import torch.distributed as dist

    if backend == "nccl":
        return dist.ProcessGroupNCCL(store, rank, size)  # CUDA builds only
    return dist.ProcessGroupGloo(store, rank, size, timeout)


class Broadcast:
    """One end of the sync group: ``rank`` 0 sends (trainer rank 0), ranks 1.. receive (engines)."""

    def __init__(self, address: str, port: int, rank: int, size: int, backend: str | None = None,
                 timeout_s: float = 600.0):
        import torch.distributed as dist

        self.backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
        self.device = "cuda" if self.backend == "nccl" else "cpu"
        timeout = datetime.timedelta(seconds=timeout_s)
        self.store = dist.TCPStore(address, port, world_size=size, is_master=rank == 0, timeout=timeout,
                                   wait_for_workers=False)
        self.pg = _process_group(self.store, rank, size, self.backend, timeout)
        self.rank = rank

    @staticmethod
    def spec(weights: dict) -> list[tuple[str, tuple[int, ...], str]]:
        """What receivers must allocate: (name, shape, dtype) in send order."""
        return [(name, tuple(t.shape), str(t.dtype).removeprefix("torch.")) for name, t in sorted(weights.items())]

    def send(self, weights: dict) -> None:
        for _, tensor in sorted(weights.items()):
            self.pg.broadcast(tensor.to(self.device).contiguous(), 0).wait()

    def receive(self, spec: list) -> dict:
        weights = {}
        for name, shape, dtype in spec:
            buffer = torch.empty(shape, dtype=getattr(torch, dtype), device=self.device)
            self.pg.broadcast(buffer, 0).wait()
            weights[name] = buffer
        return weights


def to_arrays(weights: dict) -> dict:
    """``{name: (array, dtype)}`` for ``ray.put``: numpy views of the (CPU) tensors."""
    out = {}
    for name, t in weights.items():
        t = t.detach().cpu().contiguous()
        bits = t.view(torch.int16) if t.dtype == torch.bfloat16 else t
        out[name] = (bits.numpy(), str(t.dtype).removeprefix("torch."))
    return out


def from_arrays(arrays: dict) -> dict:
    """Tensors over the arrays ``to_arrays`` made (read-only views: load them, do not write them)."""
    import warnings

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the object store's arrays are read-only
        for name, (array, dtype) in arrays.items():
            t = torch.from_numpy(array)
            out[name] = t.view(torch.bfloat16) if dtype == "bfloat16" else t
    return out
