"""Peer of bench/end_to_end.ts: the same networks in PyTorch, eager and torch.compile (default mode).

The Kiln program sends each model's MXNet symbol JSON and parameter shapes; this script builds
an nn.Module that runs the graph layer for layer (Convolution -> F.conv2d, BatchNorm ->
F.batch_norm with MXNet's fix_gamma/eps/momentum, Pooling -> max/avg pooling, FullyConnected
-> F.linear, SoftmaxOutput -> cross entropy summed over the batch, whose gradient is MXNet's
softmax - onehot), so both sides run the same network without torchvision.

Training step: zero_grad(set_to_none) + forward + loss.backward(), no optimizer update (as on
the Kiln side). Inference: softmax of the logits under torch.no_grad(), eval mode. float32,
TF32 off (cuBLAS and cuDNN), cudnn.benchmark on.

Cross-check: where the spec names a file with Kiln's weights, inputs, outputs and gradients,
one step runs on exactly those values first and the differences are reported.

KILN_PEER_DEVICE=cpu runs on the CPU (for testing this script without a GPU; no timings worth
reporting).
"""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from common import *  # noqa: E401,E702,F401,F403
import json
import math
import re
import time

START = time.time()


def parse_value(v):
    """MXNet attribute strings: '(3, 3)' -> (3, 3), 'True' -> True, '0.9' -> 0.9."""
    if not isinstance(v, str):
        return v
    s = v.strip()
    if s.startswith("(") or s.startswith("["):
        inner = s[1:-1].strip()
        return tuple(int(float(p)) for p in re.split(r"\s*,\s*", inner) if p) if inner else ()
    if s in ("True", "true"):
        return True
    if s in ("False", "false"):
        return False
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


def as_bool(v, default):
    if v is None:
        return default
    if isinstance(v, bool):
        return v
    return bool(int(v)) if isinstance(v, (int, float)) else str(v).lower() in ("true", "1")


def build_module(torch, spec):
    """An nn.Module whose forward(x) returns the logits feeding the symbol's SoftmaxOutput."""
    import torch.nn as nn
    import torch.nn.functional as F

    graph = json.loads(spec["symbol"])
    nodes = graph["nodes"]
    arg_shapes, aux_shapes = spec["argShapes"], spec["auxShapes"]
    key = lambda name: re.sub(r"\W", "_", name)  # noqa: E731

    class MxNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.params = nn.ParameterDict()
            self.names = {}  # MXNet argument name -> parameter key
            self.plan = []  # (op, node id, [(kind, ref)], attrs)
            self.aux_keys = {}
            sources = {}
            for i, n in enumerate(nodes):
                if n["op"] == "null":
                    name = n["name"]
                    if name in aux_shapes:
                        k = "aux_" + key(name)
                        self.register_buffer(k, torch.zeros(aux_shapes[name]))
                        self.aux_keys[name] = k
                        sources[i] = ("aux", k)
                    elif name in arg_shapes:
                        k = key(name)
                        self.params[k] = nn.Parameter(torch.zeros(arg_shapes[name]))
                        self.names[name] = k
                        sources[i] = ("param", k)
                    elif name == "data":
                        sources[i] = ("data", None)
                    else:
                        sources[i] = ("label", name)
                    continue
                attrs = {k: parse_value(v) for k, v in (n.get("attrs") or n.get("attr") or n.get("param") or {}).items()}
                if n["op"] == "BatchNorm" and as_bool(attrs.get("fix_gamma"), True):
                    # gamma fixed at 1: a constant weight (cuDNN's training batch norm wants one).
                    k = "ones_" + key(n["name"])
                    self.register_buffer(k, torch.ones(arg_shapes[nodes[n["inputs"][1][0]]["name"]]))
                    attrs["_ones"] = k
                ins = []
                for ref in n["inputs"]:
                    j, o = ref[0], ref[1]
                    if o != 0:
                        raise ValueError(f"{n['name']}: reads output {o} of {nodes[j]['name']} (only first outputs supported)")
                    ins.append(sources.get(j, ("node", j)))
                self.plan.append((n["op"], i, ins, attrs, n["name"]))
                sources[i] = ("node", i)
            head = graph["heads"][0][0]
            if nodes[head]["op"] != "SoftmaxOutput":
                raise ValueError(f"the head is {nodes[head]['op']}, expected SoftmaxOutput")
            a = self.plan[-1][3]
            if as_bool(a.get("multi_output"), False) or as_bool(a.get("use_ignore"), False) or float(a.get("grad_scale", 1)) != 1:
                raise ValueError(f"SoftmaxOutput attributes not supported here: {a}")
            self.normalization = a.get("normalization", "null")
            self.plan = self.plan[:-1]
            self.logits_ref = self.plan_head = nodes[head]["inputs"][0][0]

        def value(self, src, x, vals):
            kind, ref = src
            if kind == "node":
                return vals[ref]
            if kind == "param":
                return self.params[ref]
            if kind == "aux":
                return getattr(self, ref)
            if kind == "data":
                return x
            raise ValueError(f"label input {ref} used inside the network")

        def forward(self, x):
            vals = {}
            for op, i, ins, a, name in self.plan:
                v = [self.value(s, x, vals) for s in ins]
                vals[i] = self.apply(op, v, a, name)
            return vals[self.logits_ref]

        def apply(self, op, v, a, name):
            if op == "Convolution":
                k = a["kernel"]
                if len(k) != 2:
                    raise ValueError(f"{name}: only 2-d convolutions")
                return F.conv2d(v[0], v[1], v[2] if len(v) > 2 else None, a.get("stride") or (1, 1), a.get("pad") or (0, 0), a.get("dilate") or (1, 1), int(a.get("num_group", 1)))
            if op == "FullyConnected":
                x = v[0]
                if as_bool(a.get("flatten"), True) and x.dim() > 2:
                    x = x.reshape(x.shape[0], -1)
                return F.linear(x, v[1], v[2] if len(v) > 2 else None)
            if op == "BatchNorm":
                if int(a.get("axis", 1)) != 1:
                    raise ValueError(f"{name}: BatchNorm axis must be 1")
                fix_gamma = as_bool(a.get("fix_gamma"), True)
                use_global = as_bool(a.get("use_global_stats"), False)
                weight = getattr(self, a["_ones"]) if fix_gamma else v[1]
                return F.batch_norm(v[0], v[3], v[4], weight, v[2], self.training and not use_global, 1 - float(a.get("momentum", 0.9)), float(a.get("eps", 1e-3)))
            if op == "Activation":
                t = a["act_type"]
                if t == "relu":
                    return F.relu(v[0])
                if t == "tanh":
                    return torch.tanh(v[0])
                if t == "sigmoid":
                    return torch.sigmoid(v[0])
                if t == "softrelu":
                    return F.softplus(v[0])
                raise ValueError(f"{name}: act_type {t}")
            if op == "Pooling":
                x = v[0]
                pool = a.get("pool_type", "max")
                if as_bool(a.get("global_pool"), False):
                    return x.amax(dim=(2, 3), keepdim=True) if pool == "max" else x.mean(dim=(2, 3), keepdim=True)
                k = a["kernel"]
                stride = a.get("stride") or (1, 1)
                pad = a.get("pad") or (0, 0)
                ceil = a.get("pooling_convention", "valid") == "full"
                if pool == "max":
                    return F.max_pool2d(x, k, stride, pad, ceil_mode=ceil)
                if pool == "avg":
                    return F.avg_pool2d(x, k, stride, pad, ceil_mode=ceil, count_include_pad=as_bool(a.get("count_include_pad"), True))
                raise ValueError(f"{name}: pool_type {pool}")
            if op in ("elemwise_add", "_Plus", "_plus", "broadcast_add"):
                return v[0] + v[1]
            if op == "Flatten":
                return v[0].reshape(v[0].shape[0], -1)
            if op == "Dropout":
                return F.dropout(v[0], float(a.get("p", 0.5)), self.training)
            raise ValueError(f"{name}: operator {op} not supported by this peer")

    class Step(nn.Module):
        """The timed unit: the loss (training) or the probabilities (inference)."""

        def __init__(self, net, train):
            super().__init__()
            self.net = net
            self.train_step = train
            self.reduction = "mean" if net.normalization in ("batch", "valid") else "sum"

        def forward(self, x, y):
            logits = self.net(x)
            if self.train_step:
                return F.cross_entropy(logits, y, reduction=self.reduction)
            return torch.softmax(logits, dim=1)

    net = MxNet()
    return net, Step


def init_random(torch, net, gen, dev):
    with torch.no_grad():
        for name, k in net.names.items():
            p = net.params[k]
            if name.endswith("_weight"):
                a = (3.0 / max(1, p[0].numel())) ** 0.5
                p.copy_((torch.rand(p.shape, generator=gen, device=dev) * 2 - 1) * a)
            elif name.endswith("_gamma"):
                p.copy_(torch.rand(p.shape, generator=gen, device=dev) * 0.4 + 0.8)
            else:
                p.copy_((torch.rand(p.shape, generator=gen, device=dev) * 2 - 1) * 0.1)
        for name, k in net.aux_keys.items():
            b = getattr(net, k)
            b.copy_(torch.rand(b.shape, generator=gen, device=dev) * 0.4 + 0.8 if name.endswith("_var") else (torch.rand(b.shape, generator=gen, device=dev) * 2 - 1) * 0.1)


def cross_check(torch, net, Step, m, check, dev):
    """One step on Kiln's exact weights and inputs; differences of outputs and gradients."""
    import numpy as np

    blob = np.fromfile(check["file"], dtype=np.float32)
    idx = check["index"]

    def get(k):
        e = idx[k]
        n = int(np.prod(e["shape"])) if e["shape"] else 1
        return torch.from_numpy(blob[e["offset"]:e["offset"] + n].reshape(e["shape"]).copy()).to(dev)

    with torch.no_grad():
        for name, k in net.names.items():
            net.params[k].copy_(get("arg:" + name))
        for name, k in net.aux_keys.items():
            getattr(net, k).copy_(get("aux:" + name))
    x = get("arg:data")
    label_key = next(k for k in idx if k.startswith("arg:") and k.endswith("_label"))
    y = get(label_key).long()
    train = m["mode"] == "train"
    net.train(train)
    net.zero_grad(set_to_none=True)
    if train:
        logits = net(x)
        probs = torch.softmax(logits, dim=1)
        torch.nn.functional.cross_entropy(logits, y, reduction=Step(net, True).reduction).backward()
    else:
        with torch.no_grad():
            probs = torch.softmax(net(x), dim=1)
    diff = (probs.detach() - get("out:0")).abs()
    finite = bool(torch.isfinite(diff).all())
    out = {"maxAbsProbDiff": float(diff.max()) if finite else None, "outputsFinite": finite}
    if train:
        worst, worst_name, compared = 0.0, None, 0
        for name, k in net.names.items():
            g = net.params[k].grad
            if g is None or ("grad:" + name) not in idx:
                continue  # fix_gamma's gamma: unused here, zero gradient in MXNet
            kg = get("grad:" + name)
            err = float((kg - g).norm() / g.norm().clamp_min(1e-20))
            err = err if math.isfinite(err) else 1e30  # JSON has no NaN: non-finite counts as 1e30
            compared += 1
            if err > worst or worst_name is None:
                worst, worst_name = err, name
        out.update({"worstGradRelErr": worst, "worstGrad": worst_name, "gradsCompared": compared})
    out["ok"] = finite and out["maxAbsProbDiff"] <= 1e-3 and (not train or out["worstGradRelErr"] <= 1e-2)
    net.zero_grad(set_to_none=True)
    return out


def main():
    spec = read_spec()
    dev = os.environ.get("KILN_PEER_DEVICE", "cuda")
    if dev == "cuda":
        torch = need_torch_cuda()
    else:
        try:
            import torch
        except Exception as e:  # pragma: no cover
            fail(f"torch not importable: {e}")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    warmup, repeats = int(spec.get("warmup", 3)), int(spec.get("repeats", 20))
    # A safety net for the program's time budget; which models to compile is the spec's choice.
    compile_deadline = float(spec.get("compileDeadlineS", 1e9))
    gen = torch.Generator(device=dev)
    gen.manual_seed(0)

    def timed(fn):
        if dev == "cuda":
            return time_cuda(torch, fn, warmup, repeats)
        samples = []
        for _ in range(warmup):
            fn()
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t) * 1000)
        return summarize(samples)

    def sync():
        if dev == "cuda":
            torch.cuda.synchronize()

    def host_ms(fn, n=10):
        """Wall time per step of n back-to-back steps (host overhead shows when it exceeds the GPU time)."""
        sync()
        t = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        return (time.perf_counter() - t) * 1000 / n

    results = []
    for m in spec.get("models", []):
        row = {"name": m["name"]}
        try:
            net, Step = build_module(torch, m)
            net = net.to(dev)
            init_random(torch, net, gen, dev)
            train = m["mode"] == "train"
            if m.get("check"):
                row["check"] = cross_check(torch, net, Step, m, m["check"], dev)
                init_random(torch, net, gen, dev)
            net.train(train)
            step_mod = Step(net, train)
            x = (torch.rand([m["batch"], *m["image"]], generator=gen, device=dev) * 2 - 1).contiguous()
            y = torch.randint(0, m["classes"], (m["batch"],), generator=gen, device=dev)

            def make_step(f):
                if train:
                    def step():
                        net.zero_grad(set_to_none=True)
                        f(x, y).backward()
                else:
                    def step():
                        with torch.no_grad():
                            f(x, y)
                return step

            row["eager"] = {"ms": timed(make_step(step_mod)), "hostMsPerStep": host_ms(make_step(step_mod))}
            if not hasattr(torch, "compile"):
                row["compileSkipped"] = f"torch {torch.__version__} has no torch.compile"
            elif not m.get("compile", True):
                row["compileSkipped"] = "not asked for this model (torch.compile time budget)"
            elif time.time() - START > compile_deadline:
                row["compileSkipped"] = f"time budget: {time.time() - START:.0f} s spent before this model (deadline {compile_deadline:.0f} s)"
            else:
                compiled, err = try_compile(torch, step_mod)
                if compiled is None:
                    row["compileSkipped"] = err
                else:
                    try:
                        step = make_step(compiled)
                        t0 = time.time()
                        step()
                        sync()
                        compile_s = time.time() - t0
                        row["compiled"] = {"ms": timed(step), "compileS": round(compile_s, 2), "hostMsPerStep": host_ms(step)}
                    except Exception as e:  # pragma: no cover - inductor/triton trouble
                        row["compileSkipped"] = f"{type(e).__name__}: {str(e)[:300]}"
            del net, step_mod
        except Exception as e:  # pragma: no cover
            row["error"] = f"{type(e).__name__}: {str(e)[:500]}"
        results.append(row)
        if dev == "cuda":
            torch.cuda.empty_cache()
    env = torch_env(torch) if dev == "cuda" else {"torch": torch.__version__, "device": "cpu"}
    env.update({"tf32": False, "cudnn_benchmark": True, "torch_compile_mode": "default", "seconds": round(time.time() - START, 1)})
    emit(results, env)


if __name__ == "__main__":
    main()
