"""fp32 linear layers on CPU through oneDNN: the same matmuls as ``F.linear``, a faster GEMM.

PyTorch's CPU ``F.linear`` calls MKL's sgemm. On the AMD EPYC (AVX-512) this project is measured
on, MKL runs the MLM decoder's shape — (M masked rows × H) · (V × H)ᵀ with V = 30,522 — at about
half oneDNN's speed (oneDNN 26.6 ms, MKL 49.4 ms, one thread) and the layers' projections a few
percent slower (``bench/encoder.py`` stores these timings in its report's notes); the input
gradient g · W is also faster through oneDNN, the weight gradient gᵀ · x is not. Both libraries
ship inside every x86 torch wheel, so :func:`linear` sends the forward and the input gradient to oneDNN's
``mkldnn._linear_pointwise`` (the op inductor uses for CPU linears) and keeps MKL for the weight
gradient. FLOPs are unchanged; results differ from MKL's by float rounding (~1e-6 relative).

Anything else — CUDA, bf16/autocast, torch.compile tracing, a build without oneDNN, empty
inputs — takes ``F.linear`` unchanged. Parameters and state-dict keys are nn.Linear's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_ONEDNN = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def _onednn(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x (M, K) · weight (N, K)ᵀ + bias (N,) → (M, N) in one oneDNN call."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


class _OneDNNLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return _onednn(x, weight, bias)  # x (M, K) → (M, N)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()  # (M, N)
        grad_x = _onednn(grad, weight.t(), None) if ctx.needs_input_grad[0] else None  # g · W: (M, K)
        grad_w = grad.t() @ x if ctx.needs_input_grad[1] else None  # gᵀ · x: (N, K), MKL is faster here
        grad_b = grad.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def use_onednn(x: torch.Tensor, weight: torch.Tensor) -> bool:
    return (_ONEDNN and x.device.type == "cpu" and x.dtype == torch.float32 and weight.dtype == torch.float32
            and x.numel() > 0 and weight.is_contiguous() and not torch.is_autocast_enabled("cpu")
            and not torch.compiler.is_compiling())


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``F.linear``: x (…, K), weight (N, K), bias (N,) → (…, N); through oneDNN on CPU fp32."""
    if not use_onednn(x, weight):
        return F.linear(x, weight, bias)
    rows = x.reshape(-1, x.shape[-1])  # (M, K); a copy only when x is a non-contiguous view
    if not rows.is_contiguous():
        rows = rows.contiguous()
    return _OneDNNLinear.apply(rows, weight, bias).view(*x.shape[:-1], weight.shape[0])


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters, keys and init) whose forward is :func:`linear`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)
