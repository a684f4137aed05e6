"""Peer of bench/gemm_conv.ts: cuBLAS and cuDNN through PyTorch on the same shapes.

Each case: FullyConnected as F.linear (bias) or torch.matmul(x, w.t()) (no bias), convolution
as F.conv2d (no bias, cudnn.benchmark on); gradient cases time torch.autograd.grad of the
output for data and weight with a fixed head gradient (cuDNN/cuBLAS dgrad + wgrad). fp32 with
TF32 off, or TF32 on (torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32).
Tiny cases run `inner` calls back to back per timed sample, as the Kiln side does.
"""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from common import *  # noqa: E401,E702,F401,F403


def set_tf32(torch, on):
    """The legacy flags the brief names; read back so the result records what was in force."""
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on
    return {"matmul.allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32), "cudnn.allow_tf32": bool(torch.backends.cudnn.allow_tf32)}


DEV = os.environ.get("KILN_PEER_DEVICE", "cuda")  # "cpu" only to test this script without a GPU


def uniform(torch, shape, gen):
    return (torch.rand(shape, device=DEV, generator=gen) * 2 - 1).contiguous()


def make_case(torch, F, case, gen):
    """(fn, description) for one case: fn runs the timed operation once."""
    if case["kind"] == "fc":
        s = case["fc"]
        x = uniform(torch, (s["batch"], s["inF"]), gen)
        w = uniform(torch, (s["outF"], s["inF"]), gen)
        b = uniform(torch, (s["outF"],), gen) if s["bias"] else None
        if case["grad"]:
            x.requires_grad_(True)
            w.requires_grad_(True)
            y = F.linear(x, w)
            gy = uniform(torch, tuple(y.shape), gen)
            return (lambda: torch.autograd.grad(y, (x, w), gy, retain_graph=True)), "autograd.grad(F.linear)"
        if b is None:
            return (lambda: torch.matmul(x, w.t())), "torch.matmul"
        return (lambda: F.linear(x, w, b)), "F.linear"
    s = case["conv"]
    x = uniform(torch, (s["n"], s["c"], s["h"], s["w"]), gen)
    w = uniform(torch, (s["k"], s["c"], s["kernel"], s["kernel"]), gen)
    stride, pad = s["stride"], s["pad"]
    if case["grad"]:
        x.requires_grad_(True)
        w.requires_grad_(True)
        y = F.conv2d(x, w, None, stride, pad)
        gy = uniform(torch, tuple(y.shape), gen)
        return (lambda: torch.autograd.grad(y, (x, w), gy, retain_graph=True)), "autograd.grad(F.conv2d)"
    return (lambda: F.conv2d(x, w, None, stride, pad)), "F.conv2d"


def main():
    spec = read_spec()
    torch = need_torch_cuda()
    import torch.nn.functional as F

    torch.backends.cudnn.benchmark = True
    gen = torch.Generator(device=DEV)
    gen.manual_seed(0)
    warmup, repeats = int(spec.get("warmup", 3)), int(spec.get("repeats", 20))
    results = []
    flags = {}
    for case in spec.get("cases", []):
        row = {"name": case["name"], "precision": case["precision"]}
        try:
            flags[case["precision"]] = set_tf32(torch, case["precision"] == "tf32")
            fn, op = make_case(torch, F, case, gen)
            row["op"] = op
            row["ms"] = time_cuda(torch, fn, max(warmup, 2), repeats, int(case.get("inner", 1)))
        except Exception as e:  # pragma: no cover - depends on the machine
            row["error"] = f"{type(e).__name__}: {str(e)[:300]}"
        results.append(row)
        torch.cuda.empty_cache()
    set_tf32(torch, False)
    env = torch_env(torch)
    env.update({"cudnn_benchmark": True, "tf32_flags": flags})
    emit(results, env)


if __name__ == "__main__":
    main()
