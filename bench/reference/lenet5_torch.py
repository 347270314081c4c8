"""PyTorch twin of `npm run bench`'s LeNet-5 workloads, to measure the reference on the same
machine in the same minutes (throughput on shared machines moves +-30% over hours, see
../shared/anchors.md).

Workloads (synthetic 28x28 inputs, batch 256, Adam 1e-3, medians of timed steps after warm-up):
plain LeNet-5 (conv 6/16 5x5 no bias, fc 120/84/10), Bayes-by-Backprop (weights
mu + softplus(rho) * eps sampled per step, analytic KL to N(0, 0.1^2) / 60,000),
local reparameterization (mean conv + sqrt(var conv) * eps), and MC prediction with 10
weight samples (no grad). Written for this project (not copied); PyTorch 1.13 from Debian.

Usage: /usr/bin/python3 bench/reference/lenet5_torch.py [--threads 2] [--steps 9]
Prints one JSON line per workload: {"workload", "batch", "ms", "images_per_s"}.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

N_TRAIN = 60000
PRIOR_SIGMA = 0.1


class BayesParam(torch.nn.Module):
    """Mean-field Gaussian weights: sigma = softplus(rho)."""

    def __init__(self, shape):
        super().__init__()
        self.mu = torch.nn.Parameter(torch.randn(shape) * 0.1)
        self.rho = torch.nn.Parameter(torch.randn(shape) * 0.1 - 3)

    def sigma(self):
        return F.softplus(self.rho)

    def sample(self):
        return self.mu + self.sigma() * torch.randn_like(self.mu)

    def kl(self):
        s = self.sigma()
        return (math.log(PRIOR_SIGMA) - torch.log(s) + (s * s + self.mu * self.mu) / (2 * PRIOR_SIGMA**2) - 0.5).sum()


class LeNet5(torch.nn.Module):
    """LeNet-5, 28x28 inputs (conv1 padded by 2): plain, 'reparam' (BBB) or 'local'."""

    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        shapes = {
            "c1": (6, 1, 5, 5),
            "c2": (16, 6, 5, 5),
            "f1w": (120, 400),
            "f1b": (120,),
            "f2w": (84, 120),
            "f2b": (84,),
            "f3w": (10, 84),
            "f3b": (10,),
        }
        if kind == "plain":
            self.p = torch.nn.ParameterDict({k: torch.nn.Parameter(torch.randn(s) * 0.1) for k, s in shapes.items()})
        else:
            self.p = torch.nn.ModuleDict({k: BayesParam(s) for k, s in shapes.items()})

    def kl(self):
        return sum(m.kl() for m in self.p.values())

    def lin(self, name, x, op, bias=None):
        if self.kind == "plain":
            return op(x, self.p[name]) + (0 if bias is None else self.p[bias])
        if self.kind == "reparam":
            out = op(x, self.p[name].sample())
            return out + (0 if bias is None else self.p[bias].sample())
        m = self.p[name]
        mean = op(x, m.mu)
        var = op(x * x, m.sigma() ** 2)
        out = mean + torch.sqrt(var.clamp_min(1e-16)) * torch.randn_like(mean)
        return out + (0 if bias is None else self.p[bias].sample())

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.lin("c1", x, lambda a, w: F.conv2d(a, w, padding=2))), 2)
        h = F.max_pool2d(F.relu(self.lin("c2", h, F.conv2d)), 2)
        h = h.flatten(1)
        h = F.relu(self.lin("f1w", h, F.linear, "f1b"))
        h = F.relu(self.lin("f2w", h, F.linear, "f2b"))
        return self.lin("f3w", h, F.linear, "f3b")


def median_ms(fn, warm, steps):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=9)
    ap.add_argument("--batch", type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.rand(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))
    for kind in ["plain", "reparam", "local"]:
        net = LeNet5(kind)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            if kind != "plain":
                loss = loss + net.kl() / N_TRAIN
            loss.backward()
            opt.step()

        ms = median_ms(step, 2, a.steps)
        print(json.dumps({"workload": f"{kind}-lenet5", "batch": a.batch, "ms": round(ms, 2), "images_per_s": round(a.batch * 1000 / ms)}), flush=True)
        if kind != "plain":

            def predict():
                with torch.no_grad():
                    p = sum(F.softmax(net(x), dim=1) for _ in range(10)) / 10
                return p

            ms = median_ms(predict, 1, max(3, a.steps // 2))
            print(json.dumps({"workload": f"mc10-{kind}-lenet5", "batch": a.batch, "ms": round(ms, 2), "images_per_s": round(a.batch * 1000 / ms)}), flush=True)


if __name__ == "__main__":
    main()
