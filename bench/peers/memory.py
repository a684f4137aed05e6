"""PyTorch peer of bench/memory.ts: peak device memory of one training step.

For each case {model: "resnet-50" | "resnet-18" | "mlp", batch, classes, checkpoint}: builds the model
(torchvision's ResNet when importable, else the hand-written one below with the same layout;
MXNet's example MLP 784-128-64-10), a random float32 input and labels, and runs forward,
cross-entropy and backward. Reports torch.cuda.max_memory_allocated over model creation +
inputs + that first step (minus what was allocated before), the same over a second step with
the gradients kept (steady state), parameter/gradient/buffer bytes and the step time (CUDA
events). checkpoint=true wraps each ResNet stage (layer1..layer4) / each MLP hidden block in
torch.utils.checkpoint (non-reentrant). TF32 is off (Kiln computes in plain float32).
"""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from common import *  # noqa: E401,E702,F403
import gc


def hand_resnet(torch, depth, classes=1000):
    """ResNet v1 (torchvision's layout and attribute names) without torchvision."""
    nn = torch.nn

    class Basic(nn.Module):
        expansion = 1

        def __init__(self, cin, c, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c)
            self.relu = nn.ReLU(inplace=True)
            self.down = None
            if stride != 1 or cin != c:
                self.down = nn.Sequential(nn.Conv2d(cin, c, 1, stride, bias=False), nn.BatchNorm2d(c))

        def forward(self, x):
            idt = x if self.down is None else self.down(x)
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return self.relu(y + idt)

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, cin, c, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, c, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c)
            self.conv3 = nn.Conv2d(c, c * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(c * 4)
            self.relu = nn.ReLU(inplace=True)
            self.down = None
            if stride != 1 or cin != c * 4:
                self.down = nn.Sequential(nn.Conv2d(cin, c * 4, 1, stride, bias=False), nn.BatchNorm2d(c * 4))

        def forward(self, x):
            idt = x if self.down is None else self.down(x)
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            y = self.bn3(self.conv3(y))
            return self.relu(y + idt)

    block, counts = {18: (Basic, [2, 2, 2, 2]), 50: (Bottleneck, [3, 4, 6, 3])}[depth]

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            cin = 64
            layers = []
            for i, n in enumerate(counts):
                c = 64 * 2 ** i
                blocks = []
                for j in range(n):
                    blocks.append(block(cin, c, 2 if (j == 0 and i > 0) else 1))
                    cin = c * block.expansion
                layers.append(nn.Sequential(*blocks))
            self.layer1, self.layer2, self.layer3, self.layer4 = layers
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(cin, classes)

    return ResNet()


def build(torch, model, classes):
    """(module, forward(module, x, checkpoint), input shape per sample, classes, implementation)."""
    nn = torch.nn
    from torch.utils.checkpoint import checkpoint as ckpt

    if model == "mlp":
        m = nn.Sequential(
            nn.Sequential(nn.Linear(784, 128), nn.ReLU()),
            nn.Sequential(nn.Linear(128, 64), nn.ReLU()),
            nn.Linear(64, classes),
        )

        def fwd(mod, x, use_ckpt):
            for blk in mod[:2]:
                x = ckpt(blk, x, use_reentrant=False) if use_ckpt else blk(x)
            return mod[2](x)

        return m, fwd, (784,), classes, f"nn.Sequential 784-128-64-{classes}"

    depth = {"resnet-50": 50, "resnet-18": 18}[model]
    impl = "hand-written ResNet v1"
    try:
        import torchvision  # noqa: F401
        from torchvision.models import resnet18, resnet50
        m = (resnet50 if depth == 50 else resnet18)(weights=None, num_classes=classes)
        impl = f"torchvision {torchvision.__version__} resnet{depth}"
    except Exception:
        m = hand_resnet(torch, depth, classes)

    def fwd(mod, x, use_ckpt):
        x = mod.maxpool(mod.relu(mod.bn1(mod.conv1(x))))
        for stage in (mod.layer1, mod.layer2, mod.layer3, mod.layer4):
            x = ckpt(stage, x, use_reentrant=False) if use_ckpt else stage(x)
        return mod.fc(torch.flatten(mod.avgpool(x), 1))

    return m, fwd, (3, 224, 224), classes, impl


def measure(torch, case, warmup, repeats):
    import torch.nn.functional as F

    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    m, fwd, shape, classes, impl = build(torch, case["model"], int(case.get("classes", 10 if case["model"] == "mlp" else 1000)))
    m = m.cuda().float().train()
    batch = int(case["batch"])
    x = torch.rand((batch,) + shape, device="cuda") * 2 - 1
    y = torch.randint(0, classes, (batch,), device="cuda")
    use_ckpt = bool(case.get("checkpoint"))

    def step():
        loss = F.cross_entropy(fwd(m, x, use_ckpt), y)
        loss.backward()

    step()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base
    param_bytes = sum(p.numel() * p.element_size() for p in m.parameters())
    buffer_bytes = sum(b.numel() * b.element_size() for b in m.buffers())
    grad_bytes = sum(p.grad.numel() * p.grad.element_size() for p in m.parameters() if p.grad is not None)
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    steady = torch.cuda.max_memory_allocated() - base
    t = time_cuda(torch, step, warmup, repeats)
    out = {
        "model": case["model"], "batch": batch, "checkpoint": use_ckpt, "impl": impl,
        "peakBytes": int(peak), "steadyPeakBytes": int(steady), "paramBytes": int(param_bytes),
        "gradBytes": int(grad_bytes), "bufferBytes": int(buffer_bytes),
        "reservedPeakBytes": int(torch.cuda.max_memory_reserved()), "step": t,
    }
    del m, x, y
    return out


def main():
    spec = read_spec()
    torch = need_torch_cuda()
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    warmup = max(3, int(spec.get("warmup", 3)))
    repeats = int(spec.get("timeRepeats", spec.get("repeats", 5)))
    results = []
    for case in spec.get("cases", []):
        try:
            results.append(measure(torch, case, warmup, repeats))
        except Exception as e:  # one case failing (say, out of memory) leaves the others
            results.append({"model": case.get("model"), "batch": case.get("batch"), "checkpoint": bool(case.get("checkpoint")),
                            "peakBytes": 0, "error": f"{type(e).__name__}: {str(e)[:300]}"})
    env = torch_env(torch)
    env["tf32"] = False
    env["cudnn.benchmark"] = bool(torch.backends.cudnn.benchmark)
    emit(results, env)


if __name__ == "__main__":
    main()
