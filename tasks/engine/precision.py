"""What one training process runs on and how: its device, its precision (autocast, loss scaling),
torch.compile, and `StepModel`, the model as a training step calls it.

    step_model = StepModel(model, device, config)     # DDP / compiled, as configured
    logits, state = step_model(x, state)              # the forward pass under autocast
    loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())   # the loss in fp32
    norm = step_model.update(optimizer, loss, config.clip, lr)

The choices are pure functions of plain values (`choose_device`, `autocast_dtype`,
`precision_problem`, `needs_scaler`), so tests on a CPU cover the CUDA choices too. The task
keeps the plain module for its state dict, evaluation and players; only the training step goes
through DDP, the compiled graph and autocast.
"""

from __future__ import annotations

import contextlib
import functools
import os
from typing import Any

from tasks.engine.settings import PRECISIONS, ConfigError, TrainConfig

AUTOCAST_DTYPES = {"bf16": "bfloat16", "fp16": "float16"}
"""--precision -> the torch dtype autocast lowers matrix products to (fp32: no autocast)."""


def device_type(device: str) -> str:
    """The type of a device name: cuda:1 -> cuda, cpu -> cpu."""
    return device.split(":", 1)[0]


def choose_device(
    name: str, *, cuda_count: int, mps: bool, local_rank: int = 0, processes: int = 1
) -> str:
    """The device of `--device name` for the process of `local_rank` among `processes` on this
    machine; a one-line `ConfigError` when the machine lacks it.

    auto: CUDA, then MPS, then CPU. Several CUDA processes take a GPU each (``cuda:LOCAL_RANK``);
    several processes need as many GPUs. MPS runs one process (gloo and nccl do not take MPS
    tensors).
    """
    if name == "auto":
        name = "cuda" if cuda_count else "mps" if mps else "cpu"
    if name == "cuda":
        if not cuda_count:
            raise ConfigError(
                "cuda: torch sees no CUDA device on this machine; use --device cpu or auto",
                "device",
            )
        if processes > cuda_count:
            raise ConfigError(
                f"{processes} processes on this machine need a GPU each, and it has "
                f"{cuda_count}; use --nproc {cuda_count} or --device cpu",
                "nproc",
                message=f"--nproc {processes} needs a GPU per process, and this machine has "
                f"{cuda_count}; use --nproc {cuda_count} or --device cpu",
            )
        return f"cuda:{local_rank}" if processes > 1 else "cuda"
    if name == "mps":
        if not mps:
            raise ConfigError("mps: torch sees no Apple GPU (MPS) here; use --device cpu or auto",
                              "device")  # fmt: skip
        if processes > 1:
            raise ConfigError(
                "mps runs one process; several processes run on cpu or cuda", "device"
            )
    return name


def machine_device(name: str, processes: int = 1, local_rank: int = 0) -> str:
    """`choose_device` with torch's answers about this machine."""
    import torch

    mps = getattr(torch.backends, "mps", None)
    return choose_device(
        name,
        cuda_count=torch.cuda.device_count() if torch.cuda.is_available() else 0,
        mps=bool(mps and mps.is_available()),
        local_rank=local_rank,
        processes=processes,
    )


def process_device(config: TrainConfig) -> str:
    """This process's device for the config (`machine_device`, with torchrun's LOCAL_RANK and
    LOCAL_WORLD_SIZE under torchrun; one process outside it), checked against ``--precision``.

    A CUDA process under torchrun also makes its GPU the current one (nccl needs that).
    """
    import torch

    device = machine_device(
        config.device,
        processes=int(os.environ.get("LOCAL_WORLD_SIZE", "1")),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )
    check_precision(device, config.precision)
    if device.startswith("cuda:"):
        torch.cuda.set_device(device)
    return device


def precision_problem(device_kind: str, precision: str, bf16_supported: bool = True) -> str | None:
    """Why `precision` cannot run on a device of this type (None: it can).

    bf16 autocasts on CPUs and CUDA GPUs that have bfloat16 (`bf16_supported`); fp16 needs
    CUDA (its narrow range needs loss scaling, which `torch.amp.GradScaler` does on CUDA only).
    """
    if precision not in PRECISIONS:
        return f"must be one of {', '.join(PRECISIONS)} (got {precision!r})"
    if precision == "fp32":
        return None
    if device_kind == "cuda":
        if precision == "bf16" and not bf16_supported:
            return "bf16: this GPU has no bfloat16; use --precision fp16 or fp32"
        return None
    if device_kind == "cpu":
        if precision == "fp16":
            return (
                "fp16 needs a CUDA GPU (loss-scaled half precision) and this run is on the CPU; "
                "use --precision bf16 or fp32"
            )
        if precision == "bf16" and not bf16_supported:
            return (
                "bf16: this CPU has no bfloat16 arithmetic (AVX-512 or AMX), so bf16 would train "
                "over 10 times slower than fp32 here; use --precision fp32"
            )
        return None
    return f"{precision} runs on cpu (bf16) or cuda (bf16, fp16), not {device_kind}; use fp32"


def check_precision(device: str, precision: str) -> None:
    """Raise a one-line `ConfigError` naming --precision when it cannot run on `device`."""
    kind = device_type(device)
    bf16 = True
    if kind == "cuda" and precision == "bf16":
        import torch

        bf16 = torch.cuda.is_bf16_supported()
    elif kind == "cpu" and precision == "bf16":
        bf16 = cpu_has_bf16()
    problem = precision_problem(kind, precision, bf16)
    if problem:
        raise ConfigError(problem, "precision")


def autocast_dtype(device_kind: str, precision: str) -> str | None:
    """The name of the torch dtype autocast uses for `precision` (None: fp32, no autocast).

    Checked by `precision_problem` first: fp16 is for CUDA only.
    """
    if precision == "fp32":
        return None
    if precision == "fp16" and device_kind != "cuda":
        raise ConfigError(precision_problem(device_kind, precision) or "", "precision")
    return AUTOCAST_DTYPES[precision]


def autocast_context(device: str, precision: str) -> contextlib.AbstractContextManager[Any]:
    """`torch.autocast` for bf16 (CPU, CUDA) or fp16 (CUDA); a do-nothing context for fp32.

    Inside it matrix products run in the lower precision while reductions and losses stay in
    fp32; compute the loss on ``logits.float()``.
    """
    dtype = autocast_dtype(device_type(device), precision)
    if dtype is None:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device_type(device), dtype=getattr(torch, dtype))


@functools.cache
def cpu_has_bf16() -> bool:
    """Whether this CPU does bfloat16 arithmetic as oneDNN sees it (AVX-512 or AMX).

    Without it (an AVX2 AMD EPYC, say) torch emulates bf16: a 2x256 GRU or LSTM trained 13 to
    23 times slower than in fp32, and oneDNN refuses a bf16 LSTM outright ("could not create a
    primitive descriptor"). Asked once per process.
    """
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch without the query, or without oneDNN
        return False


def needs_scaler(device_kind: str, precision: str) -> bool:
    """fp16 on CUDA scales the loss so small gradients do not underflow to zero."""
    return device_kind == "cuda" and precision == "fp16"


def grad_scaler(device: str, precision: str) -> Any:
    """A `torch.amp.GradScaler` for fp16 on CUDA, else None (bf16 has fp32's range)."""
    if not needs_scaler(device_type(device), precision):
        return None
    import torch

    return torch.amp.GradScaler("cuda")


def maybe_compile(model: Any, config: TrainConfig) -> Any:
    """``torch.compile(model)`` with ``--compile``, else the model itself.

    Compiling happens on the first call (the trainer reports that step's seconds as
    ``StepLogged.compile_s``); a call with other shapes or another kind of state compiles again.
    """
    if not config.compile:
        return model
    import torch

    return torch.compile(model)


def widen(tensor: Any) -> Any:
    """A bfloat16 or float16 tensor as float32 (others unchanged: ids, complex states).

    A state carried between chunks is kept in fp32, so a checkpoint reads the same under any
    --precision.
    """
    import torch

    return tensor.float() if tensor.dtype in (torch.bfloat16, torch.float16) else tensor


class StepModel:
    """The model as a training step runs it: in DDP when several processes train, compiled
    with ``--compile``, under autocast for ``--precision``, updated with loss scaling for fp16.

    `model` stays the plain module: its parameters are the ones updated, its state dict is
    the one saved, and evaluation calls it directly. The DDP wrapper and the compiled graph are
    made on the first call, once the trainer has joined the processes.
    """

    def __init__(self, model: Any, device: str, config: TrainConfig) -> None:
        check_precision(device, config.precision)
        self.model = model
        self.device = device
        self.config = config
        self.scaler = grad_scaler(device, config.precision)
        """The fp16 loss scaler (None for fp32 and bf16)."""
        self._forward: Any = None

    @property
    def forward(self) -> Any:
        """What the training step calls: the module, its DDP wrapper, or their compiled graph."""
        if self._forward is None:
            from tasks.engine.base import distribute
            from tasks.engine.distributed import world

            self._forward = maybe_compile(distribute(self.model, world()), self.config)
        return self._forward

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The forward pass under autocast; outputs may be bf16/fp16 (call ``.float()``)."""
        with autocast_context(self.device, self.config.precision):
            return self.forward(*args, **kwargs)

    def update(self, optimizer: Any, loss: Any, clip: float, lr: float) -> float:
        """`tasks.engine.base.torch_update` with this model's loss scaler."""
        from tasks.engine.base import torch_update

        return torch_update(self.model, optimizer, loss, clip, lr, self.scaler)
