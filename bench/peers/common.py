"""Shared by the peer scripts: the spec on stdin, CUDA-event timing, the JSON line on stdout.

Protocol (bench/harness.ts runPeer): the Kiln program writes one JSON object to stdin (its
cases plus "repeats" and "warmup"); the script prints exactly one JSON object as its last
stdout line: {"env": {...}, "results": [...]} or {"error": "why it could not run"}.
"""
import json
import statistics
import sys


def read_spec():
    return json.loads(sys.stdin.read() or "{}")


def emit(results, env):
    print(json.dumps({"env": env, "results": results}))


def fail(reason):
    print(json.dumps({"error": reason}))
    sys.exit(0)


def need_torch_cuda():
    """torch with a CUDA device, or a clean {"error"} line and exit."""
    try:
        import torch  # noqa: F401
    except Exception as e:  # pragma: no cover - depends on the machine
        fail(f"torch not importable: {e}")
    import torch
    if not torch.cuda.is_available():
        fail("torch sees no CUDA device")
    return torch


def torch_env(torch):
    return {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "device": torch.cuda.get_device_name(0),
    }


def summarize(samples):
    s = sorted(samples)
    q = lambda f: s[min(len(s) - 1, int(f * len(s)))]
    return {"median": q(0.5), "min": s[0], "p10": q(0.1), "p90": q(0.9), "n": len(s)}


def time_cuda(torch, fn, warmup, repeats, inner=1):
    """Milliseconds per call of fn: warm-up calls, then `repeats` runs timed with CUDA events."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) / inner)
    return summarize(samples)


def try_compile(torch, fn, **kw):
    """torch.compile(fn) or None with the reason (inductor needs a working Triton)."""
    try:
        return torch.compile(fn, **kw), None
    except Exception as e:  # pragma: no cover
        return None, str(e)[:300]


def time_cupy(cp, fn, warmup, repeats, inner=1):
    """Milliseconds per call of fn on CuPy's current stream, timed like time_cuda."""
    for _ in range(warmup):
        fn()
    cp.cuda.Device().synchronize()
    samples = []
    for _ in range(repeats):
        start, end = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        samples.append(cp.cuda.get_elapsed_time(start, end) / inner)
    return summarize(samples)
