"""Peers of bench/reductions.ts: PyTorch eager, torch.compile (cases marked "compile"), CuPy
(cupy.sum / cupy.mean) and F.layer_norm (the library LayerNorm) on the same cases. Each case:
{id, kind: reduce|softmax|batchnorm|layernorm, op, axis, shape, backward, compile, inner}.
Prints {"env", "results": [{id, eager, compiled, compileSeconds, cupy, native, maxAbsErr, errors}]}.
"""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from common import *  # noqa: E401,E702,F403
import time

spec = read_spec()
torch = need_torch_cuda()
import torch._dynamo  # noqa: E402  (torch.compile's cache, reset between cases)
import torch.nn.functional as F  # noqa: E402

EPS = float(spec.get("eps", 1e-5))


def layer_norm_expr(x, g, b):
    """(x - mean) / sqrt(var + eps) * g + b over the last axis: the graph Kiln builds from sym ops."""
    mean = x.mean(-1, keepdim=True)
    xc = x - mean
    var = (xc * xc).mean(-1, keepdim=True)
    return xc / torch.sqrt(var + EPS) * g + b


def make(case, gen):
    """Inputs, the eager function (no arguments), a compilable function with its arguments, and a float64 reference."""
    kind, shape = case["kind"], case["shape"]
    rand = lambda s, lo, hi: torch.rand(s, device="cuda", generator=gen) * (hi - lo) + lo  # noqa: E731
    if kind == "reduce":
        x = rand(shape, 0.5, 1.5)
        op = torch.sum if case["op"] == "sum" else torch.mean
        f = lambda x: op(x, dim=case["axis"])  # noqa: E731
        return {"x": x}, f, (x,), lambda: f(x.double())
    if kind == "softmax":
        x = rand(shape, -4.0, 4.0)
        op = torch.softmax if case["op"] == "softmax" else torch.log_softmax
        f = lambda x: op(x, dim=-1)  # noqa: E731
        return {"x": x}, f, (x,), lambda: f(x.double())
    if kind == "layernorm":
        n = shape[-1]
        x, g, b = rand(shape, -1.0, 2.0), rand([n], 0.5, 1.5), rand([n], -0.5, 0.5)
        return {"x": x, "g": g, "b": b}, layer_norm_expr, (x, g, b), lambda: layer_norm_expr(x.double(), g.double(), b.double())
    if kind == "batchnorm":
        c = shape[1]
        x, w, b = rand(shape, -1.0, 2.0), rand([c], 0.5, 1.5), rand([c], -0.5, 0.5)
        rm, rv = torch.zeros(c, device="cuda"), torch.ones(c, device="cuda")
        # MXNet's momentum 0.9 keeps 90 % of the moving average: torch's momentum 0.1.
        fwd = lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=EPS)  # noqa: E731
        ref = lambda: F.batch_norm(x.double(), None, None, w.double(), b.double(), training=True, eps=EPS)  # noqa: E731
        if not case.get("backward"):
            return {"x": x}, fwd, (x, w, b), ref
        x.requires_grad_(True)
        w.requires_grad_(True)
        b.requires_grad_(True)
        dy = rand(shape, -1.0, 1.0)

        def fwd_bwd(x, w, b):
            y = fwd(x, w, b)
            return torch.autograd.grad(y, (x, w, b), dy)[0]

        def ref_dx():
            xd = x.detach().double().requires_grad_(True)
            y = F.batch_norm(xd, None, None, w.detach().double(), b.detach().double(), training=True, eps=EPS)
            return torch.autograd.grad(y, (xd,), dy.double())[0]

        return {"x": x}, fwd_bwd, (x, w, b), ref_dx
    raise ValueError(f"unknown kind {kind}")


def main():
    warmup, repeats = max(3, int(spec.get("warmup", 3))), max(1, int(spec.get("repeats", 20)))
    try:
        import cupy as cp
        cupy_reason = None
    except Exception as e:  # pragma: no cover - depends on the machine
        cp, cupy_reason = None, f"cupy not importable: {e}"
    env = torch_env(torch)
    env["cupy"] = cp.__version__ if cp else cupy_reason
    env["note"] = "BatchNorm fwd+bwd: F.batch_norm then torch.autograd.grad(y, (x, w, b), dy) per timed call"
    gen = torch.Generator(device="cuda").manual_seed(1)
    results = []
    for case in spec.get("cases", []):
        inner = int(case.get("inner", 1))
        r = {"id": case["id"], "errors": {}, "maxAbsErr": {}}
        ins, f, args, ref_fn = make(case, gen)
        backward = bool(case.get("backward"))
        grad_ctx = torch.enable_grad if backward else torch.no_grad
        with grad_ctx():
            ref = ref_fn()
            err = lambda y: float((y.detach().double() - ref).abs().max())  # noqa: E731
            r["maxAbsErr"]["eager"] = err(f(*args))
            r["eager"] = time_cuda(torch, lambda: f(*args), warmup, repeats, inner)
            if case.get("compile"):
                torch._dynamo.reset()
                cf, why = try_compile(torch, f)
                if cf is None:
                    r["errors"]["compile"] = why
                else:
                    try:
                        t0 = time.time()
                        y = cf(*args)
                        torch.cuda.synchronize()
                        r["compileSeconds"] = time.time() - t0
                        r["maxAbsErr"]["compiled"] = err(y)
                        del y
                        r["compiled"] = time_cuda(torch, lambda: cf(*args), warmup, repeats, inner)
                    except Exception as e:  # inductor/triton failures are reported, not fatal
                        r["errors"]["compile"] = str(e)[:300]
            if case["kind"] == "layernorm":
                n = case["shape"][-1]
                x, g, b = ins["x"], ins["g"], ins["b"]
                native = lambda: F.layer_norm(x, (n,), g, b, EPS)  # noqa: E731
                r["maxAbsErr"]["native"] = err(native())
                r["native"] = time_cuda(torch, native, warmup, repeats, inner)
            if case["kind"] == "reduce":
                if cp is None:
                    r["errors"]["cupy"] = cupy_reason
                else:
                    try:
                        cx = cp.asarray(ins["x"])
                        op = cp.sum if case["op"] == "sum" else cp.mean
                        call = lambda: op(cx, axis=case["axis"])  # noqa: E731
                        r["cupy"] = time_cupy(cp, call, warmup, repeats, inner)
                        try:
                            r["maxAbsErr"]["cupy"] = err(torch.as_tensor(cp.asnumpy(call()), device="cuda"))
                        except Exception as e:
                            r["errors"]["cupyCheck"] = str(e)[:300]
                        del cx
                    except Exception as e:
                        r["errors"]["cupy"] = str(e)[:300]
        del ins, args, ref
        torch.cuda.empty_cache()
        if cp is not None:
            cp.get_default_memory_pool().free_all_blocks()
        results.append(r)
    emit(results, env)


try:
    main()
except Exception as e:  # one JSON line, never a bare trace
    fail(f"reductions.py: {type(e).__name__}: {e}")
