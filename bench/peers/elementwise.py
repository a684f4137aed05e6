"""Peers of bench/elementwise.ts: the same op chains in PyTorch eager, torch.compile and a CuPy
ElementwiseKernel. The spec (stdin) lists each case's op names, x's shape, the broadcast
vectors' shape (or null), whether to torch.compile it and the repeats per timed sample.
Prints {"env", "results": [{id, eager, compiled, compileSeconds, cupy, maxAbsErr, errors}]}.
"""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from common import *  # noqa: E401,E702,F403
import time

spec = read_spec()
torch = need_torch_cuda()
import torch._dynamo  # noqa: E402  (torch.compile's cache, reset between cases)
C = spec.get("constants", {"mul_s": 1.5, "add_s": 0.25})
MUL_S, ADD_S = float(C["mul_s"]), float(C["add_s"])


def torch_chain(ops):
    """y = x, then each op on y: the same meaning as OPS in bench/elementwise.ts."""
    def f(x, g, b):
        y = x
        for op in ops:
            if op == "mul_x":
                y = y * x
            elif op == "add_x":
                y = y + x
            elif op == "mul_s":
                y = y * MUL_S
            elif op == "add_s":
                y = y + ADD_S
            elif op == "sigmoid":
                y = torch.sigmoid(y)
            elif op == "tanh":
                y = torch.tanh(y)
            elif op == "exp":
                y = torch.exp(y)
            elif op == "mul_g":
                y = y * g
            elif op == "add_b":
                y = y + b
            else:
                raise ValueError(f"unknown op {op}")
        return y
    return f


CUPY_OPS = {
    "mul_x": "y = y * x;",
    "add_x": "y = y + x;",
    "mul_s": f"y = y * {MUL_S!r}f;",
    "add_s": f"y = y + {ADD_S!r}f;",
    "sigmoid": "y = 1.0f / (1.0f + expf(-y));",
    "tanh": "y = tanhf(y);",
    "exp": "y = expf(y);",
    "mul_g": "y = y * g;",
    "add_b": "y = y + b;",
}


def cupy_kernel(cp, ops, broadcast, name):
    body = "float y = x; " + " ".join(CUPY_OPS[o] for o in ops) + " out = y;"
    params = "float32 x, float32 g, float32 b" if broadcast else "float32 x"
    return cp.ElementwiseKernel(params, "float32 out", body, name)


def main():
    warmup, repeats = max(3, int(spec.get("warmup", 3))), max(1, int(spec.get("repeats", 20)))
    try:
        import cupy as cp
        cupy_reason = None
    except Exception as e:  # pragma: no cover - depends on the machine
        cp, cupy_reason = None, f"cupy not importable: {e}"
    env = torch_env(torch)
    env["cupy"] = cp.__version__ if cp else cupy_reason
    gen = torch.Generator(device="cuda").manual_seed(1)
    results = []
    for case in spec.get("cases", []):
        ops, shape, bshape = case["ops"], case["shape"], case.get("bshape")
        inner = int(case.get("inner", 1))
        r = {"id": case["id"], "errors": {}, "maxAbsErr": {}}
        x = torch.rand(shape, device="cuda", generator=gen) * 2 - 1
        g = (torch.rand(bshape, device="cuda", generator=gen) + 0.5) if bshape else None
        b = (torch.rand(bshape, device="cuda", generator=gen) - 0.5) if bshape else None
        f = torch_chain(ops)
        with torch.no_grad():
            ref = f(x.double(), g.double() if g is not None else None, b.double() if b is not None else None)
            err = lambda y: float((y.double() - ref).abs().max())  # noqa: E731
            r["maxAbsErr"]["eager"] = err(f(x, g, b))
            r["eager"] = time_cuda(torch, lambda: f(x, g, b), warmup, repeats, inner)
            if case.get("compile"):
                torch._dynamo.reset()
                cf, why = try_compile(torch, f)
                if cf is None:
                    r["errors"]["compile"] = why
                else:
                    try:
                        t0 = time.time()
                        y = cf(x, g, b)
                        torch.cuda.synchronize()
                        r["compileSeconds"] = time.time() - t0
                        r["maxAbsErr"]["compiled"] = err(y)
                        del y
                        r["compiled"] = time_cuda(torch, lambda: cf(x, g, b), warmup, repeats, inner)
                    except Exception as e:  # inductor/triton failures are reported, not fatal
                        r["errors"]["compile"] = str(e)[:300]
            if cp is not None:
                try:
                    k = cupy_kernel(cp, ops, bshape is not None, "kiln_peer_" + "".join(ch for ch in case["id"].split(" ")[0] if ch.isalnum()))
                    cx = cp.asarray(x)
                    out = cp.empty(cx.shape, dtype=cp.float32)
                    args = (cx, cp.asarray(g), cp.asarray(b)) if bshape else (cx,)
                    call = lambda: k(*args, out)  # noqa: E731
                    r["cupy"] = time_cupy(cp, call, warmup, repeats, inner)
                    try:
                        r["maxAbsErr"]["cupy"] = err(torch.as_tensor(out, device="cuda"))
                    except Exception as e:
                        r["errors"]["cupyCheck"] = str(e)[:300]
                    del out, cx, args
                except Exception as e:
                    r["errors"]["cupy"] = str(e)[:300]
            else:
                r["errors"]["cupy"] = cupy_reason
        del x, g, b, ref
        torch.cuda.empty_cache()
        if cp is not None:
            cp.get_default_memory_pool().free_all_blocks()
        results.append(r)
    emit(results, env)


try:
    main()
except Exception as e:  # one JSON line, never a bare trace
    fail(f"elementwise.py: {type(e).__name__}: {e}")
