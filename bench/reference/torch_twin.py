#!/usr/bin/env python3
"""PyTorch twin of `npm run bench`: the same workloads, measured on the same machine in the same
minutes, with the BLAS library PyTorch really loaded checked first.

Why the BLAS check: Debian's `python3-torch` calls whatever `libblas.so.3` the alternatives system
selects for Linear/matmul. With only `libblas3` installed that is the netlib reference BLAS
(~2.5 GFLOP/s), and every ratio against it flatters us by 2-27x. This script reads the libraries
mapped into its own process (/proc/self/maps) after a first matmul, measures the SGEMM rate of a
128x784 @ 784x1024 product (best of 30), and reports both; `bench/run.ts` refuses to print
ratios when the library is the reference BLAS or no known optimised one.

Workloads (synthetic inputs, Adam 1e-3, medians of timed steps after warm-up steps), written for
this project (not copied) to mirror `bench/zoo.ts` / `bench/cifar.ts`:
- LeNet-5 (conv 6/16 5x5 + bias, fc 120/84/10) on 28x28x1: plain, Bayes-by-Backprop ('reparam':
  w = mu + softplus(rho) * eps per step), local reparameterization, Flipout; analytic KL to
  N(0, 0.1^2) / 60,000; MC prediction with 10 weight draws (no grad);
- LeNet conv 20/50 (fc 500) plain, and the evidential LeNet (dropout 0.5, Sensoy MSE loss);
- AlexNet and 3Conv3FC of BayesianCNN on 32x32x3 (softplus), plain and Bayes-by-Backprop, batch 64;
- the MindSpore VAE 1024-800-400-20 (squared error + KL), batch 128;
- the Pyro-seed BNN 784-1024-10 (reparameterized weights, Normal(0, 1) prior), batch 128.

Usage: /usr/bin/python3 bench/reference/torch_twin.py --info
       /usr/bin/python3 bench/reference/torch_twin.py --workload plain-lenet5 --batch 256
Prints one JSON line: {"workload", "batch", "ms", "images_per_s", "max_rss_mib"}, or with --info
{"torch", "blas", "blas_kind", "sgemm_gflops", "mkldnn", "threads"}.
"""
import argparse
import json
import math
import os
import re
import resource
import statistics
import time

import torch
import torch.nn.functional as F

PRIOR_SIGMA = 0.1


def blas_info(threads):
    """The BLAS library mapped into this process and its SGEMM rate (GFLOP/s)."""
    torch.set_num_threads(threads)
    a = torch.randn(128, 784)
    b = torch.randn(784, 1024)
    for _ in range(3):
        a @ b
    libs = []
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if re.search(r"(blas|mkl_rt|mkl_core|blis)[^/]*\.so", path) and path not in libs:
                libs.append(path)
    real = [os.path.realpath(p) for p in libs]
    joined = " ".join(real).lower()
    if "openblas" in joined:
        kind = "openblas"
    elif "mkl" in joined:
        kind = "mkl"
    elif "blis" in joined:
        kind = "blis"
    elif re.search(r"/blas/libblas\.so", joined):
        kind = "reference"
    else:
        kind = "unknown"
    best = float("inf")
    for _ in range(30):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    dt = best
    return {
        "torch": torch.__version__,
        "blas": real,
        "blas_kind": kind,
        "sgemm_gflops": round(2 * 128 * 784 * 1024 / dt / 1e9, 1),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "threads": torch.get_num_threads(),
    }


class Weight(torch.nn.Module):
    """A weight (and its bias): plain, or mean-field Gaussian with sigma = softplus(rho)."""

    def __init__(self, shape, fan_in, bayes):
        super().__init__()
        bound = 1 / math.sqrt(fan_in)
        self.bayes = bayes
        self.mu = torch.nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
        self.bmu = torch.nn.Parameter(torch.zeros(shape[0]))
        if bayes:
            self.rho = torch.nn.Parameter(torch.full(shape, -3.0))
            self.brho = torch.nn.Parameter(torch.full((shape[0],), -3.0))

    def sample(self):
        if not self.bayes:
            return self.mu, self.bmu
        return (
            self.mu + F.softplus(self.rho) * torch.randn_like(self.mu),
            self.bmu + F.softplus(self.brho) * torch.randn_like(self.bmu),
        )

    def kl(self):
        if not self.bayes:
            return 0.0
        total = 0.0
        for mu, rho in ((self.mu, self.rho), (self.bmu, self.brho)):
            s = F.softplus(rho)
            total = total + (math.log(PRIOR_SIGMA) - torch.log(s) + (s * s + mu * mu) / (2 * PRIOR_SIGMA**2) - 0.5).sum()
        return total


class Net(torch.nn.Module):
    """A sequential net from a spec list; `est` is plain, reparam, local or flipout."""

    def __init__(self, spec, in_shape, est):
        super().__init__()
        self.spec = spec
        self.est = est
        c, h, w = in_shape
        self.ws = torch.nn.ModuleList()
        flat = None
        for s in spec:
            if s[0] == "conv":
                _, co, k, stride, pad = s
                self.ws.append(Weight((co, c, k, k), c * k * k, est != "plain"))
                c = co
                h = (h + 2 * pad - k) // stride + 1
                w = (w + 2 * pad - k) // stride + 1
            elif s[0] == "pool":
                _, k, stride = s
                h = (h - k) // stride + 1
                w = (w - k) // stride + 1
            elif s[0] == "flatten":
                flat = c * h * w
            elif s[0] == "dense":
                n_in = flat if flat is not None else c
                self.ws.append(Weight((s[1], n_in), n_in, est != "plain"))
                flat = s[1]

    def kl(self):
        return sum(w.kl() for w in self.ws)

    def layer(self, x, w, op):
        if self.est in ("plain", "reparam"):
            wt, b = w.sample()
            return op(x, wt, b)
        sw, sb = F.softplus(w.rho), F.softplus(w.brho)
        mean = op(x, w.mu, w.bmu)
        if self.est == "local":
            var = op(x * x, sw * sw, sb * sb)
            return mean + torch.sqrt(var + 1e-16) * torch.randn_like(mean)
        sin = torch.sign(torch.rand_like(x) - 0.5)
        pert = op(x * sin, sw * torch.randn_like(sw), None)
        sout = torch.sign(torch.rand_like(pert) - 0.5)
        return mean + pert * sout + sb * torch.randn_like(sb) if mean.dim() == 2 else mean + pert * sout + (sb * torch.randn_like(sb)).view(1, -1, 1, 1)

    def forward(self, x):
        i = 0
        for s in self.spec:
            if s[0] == "conv":
                _, _, _, stride, pad = s
                x = self.layer(x, self.ws[i], lambda a, wt, b: F.conv2d(a, wt, b, stride, pad))
                i += 1
            elif s[0] == "dense":
                x = self.layer(x, self.ws[i], F.linear)
                i += 1
            elif s[0] == "act":
                x = getattr(F, s[1])(x)
            elif s[0] == "pool":
                x = F.max_pool2d(x, s[1], s[2])
            elif s[0] == "flatten":
                x = x.flatten(1)
            elif s[0] == "dropout" and self.training:
                x = F.dropout(x, s[1])
        return x


LENET5 = [("conv", 6, 5, 1, 2), ("act", "relu"), ("pool", 2, 2), ("conv", 16, 5, 1, 0), ("act", "relu"), ("pool", 2, 2),
          ("flatten",), ("dense", 120), ("act", "relu"), ("dense", 84), ("act", "relu"), ("dense", 10)]
LENET = [("conv", 20, 5, 1, 0), ("act", "relu"), ("pool", 2, 2), ("conv", 50, 5, 1, 0), ("act", "relu"), ("pool", 2, 2),
         ("flatten",), ("dense", 500), ("act", "relu"), ("dense", 10)]
EVIDENTIAL = LENET[:-1] + [("dropout", 0.5), ("dense", 10)]
ALEXNET = [("conv", 64, 11, 4, 5), ("act", "softplus"), ("pool", 2, 2), ("conv", 192, 5, 1, 2), ("act", "softplus"),
           ("pool", 2, 2), ("conv", 384, 3, 1, 1), ("act", "softplus"), ("conv", 256, 3, 1, 1), ("act", "softplus"),
           ("conv", 128, 3, 1, 1), ("act", "softplus"), ("pool", 2, 2), ("flatten",), ("dense", 10)]
THREECONV = [("conv", 32, 5, 1, 2), ("act", "softplus"), ("pool", 3, 2), ("conv", 64, 5, 1, 2), ("act", "softplus"),
             ("pool", 3, 2), ("conv", 128, 5, 1, 1), ("act", "softplus"), ("pool", 3, 2), ("flatten",),
             ("dense", 1000), ("act", "softplus"), ("dense", 1000), ("act", "softplus"), ("dense", 10)]
VAE = None  # built below


WARM = 2  # warm-up steps at least (--warm; deepprob's children use the same count)


def median_ms(fn, warm, steps):
    for _ in range(max(warm, WARM)):
        fn()
    ts = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


def classifier(name):
    """(spec, input shape (C, H, W), estimator, loss kind, data set size, MC prediction)."""
    est, _, arch = name.partition("-")
    if name.startswith("mc10-"):
        spec, shape, e, loss, n, _ = classifier(name[len("mc10-"):])
        return spec, shape, e, loss, n, True
    if arch == "":
        est, arch = "plain", est
    if est == "bayes":
        est = "reparam"
    table = {
        "lenet5": (LENET5, (1, 28, 28), 60000),
        "lenet": (LENET, (1, 28, 28), 60000),
        "evidential": (EVIDENTIAL, (1, 28, 28), 60000),
        "alexnet": (ALEXNET, (3, 32, 32), 50000),
        "3conv3fc": (THREECONV, (3, 32, 32), 50000),
    }
    if arch == "lenet" and name.startswith("evidential"):
        arch = "evidential"
    spec, shape, n = table[arch]
    return spec, shape, est, "evidential" if arch == "evidential" else "ce", n, False


def run_classifier(name, batch, steps):
    spec, shape, est, loss_kind, n, predict = classifier(name)
    net = Net(spec, shape, est)
    x = torch.rand(batch, *shape)
    y = torch.randint(0, 10, (batch,))
    yoh = F.one_hot(y, 10).float()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        logits = net(x)
        if loss_kind == "evidential":
            alpha = F.relu(logits) + 1
            s = alpha.sum(1, keepdim=True)
            p = alpha / s
            loss = ((yoh - p) ** 2).sum(1) + (p * (1 - p) / (s + 1)).sum(1)
            loss = loss.mean()
        else:
            loss = F.cross_entropy(logits, y)
        if est != "plain":
            loss = loss + net.kl() / n
        loss.backward()
        opt.step()

    if not predict:
        return median_ms(step, 2, steps)
    net.eval()

    def mc():
        with torch.no_grad():
            return sum(F.softmax(net(x), dim=1) for _ in range(10)) / 10

    return median_ms(mc, 1, steps)


def run_vae(batch, steps):
    """MindSpore VAE: 1024 -> 800 -> 400 -> (mu, softplus std) 20 -> 400 -> 1024 sigmoid."""
    lin = torch.nn.Linear
    enc = torch.nn.Sequential(lin(1024, 800), torch.nn.ReLU(), lin(800, 400), torch.nn.ReLU())
    heads = torch.nn.ModuleList([lin(400, 20), lin(400, 20), lin(20, 400)])
    dec = torch.nn.Sequential(lin(400, 1024), torch.nn.Sigmoid())
    params = list(enc.parameters()) + list(heads.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.rand(batch, 1024)

    def step():
        opt.zero_grad()
        h = enc(x)
        mu, std = heads[0](h), F.softplus(heads[1](h))
        z = mu + std * torch.randn_like(std)
        r = dec(heads[2](z))
        kl = (-torch.log(std) + (std * std + mu * mu) / 2 - 0.5).sum()
        loss = (((r - x) ** 2).sum() + kl) / batch
        loss.backward()
        opt.step()

    return median_ms(step, 2, steps)


def run_bnn(batch, steps):
    """Pyro-seed BNN 784-1024-10: W = mu + softplus(rho) eps, Normal(0, 1) prior, tutorial ELBO."""
    shapes = {"fc1w": (1024, 784), "fc1b": (1024,), "outw": (10, 1024), "outb": (10,)}
    mu = {k: torch.randn(s).requires_grad_() for k, s in shapes.items()}
    rho = {k: torch.randn(s).requires_grad_() for k, s in shapes.items()}
    opt = torch.optim.Adam(list(mu.values()) + list(rho.values()), lr=0.01)
    x = torch.rand(batch, 784)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        w, lq, lp = {}, 0.0, 0.0
        for k in shapes:
            s = F.softplus(rho[k])
            w[k] = mu[k] + s * torch.randn_like(s)
            lq = lq + (-torch.log(s) - 0.5 * ((w[k] - mu[k]) / s) ** 2).sum()
            lp = lp + (-0.5 * w[k] ** 2).sum()
        logits = F.linear(F.relu(F.linear(x, w["fc1w"], w["fc1b"])), w["outw"], w["outb"])
        loss = F.cross_entropy(logits, y, reduction="sum") - lp + lq
        loss.backward()
        opt.step()

    return median_ms(step, 2, steps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=9)
    ap.add_argument("--warm", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--workload", default="plain-lenet5")
    ap.add_argument("--info", action="store_true")
    a = ap.parse_args()
    global WARM
    WARM = a.warm
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.info:
        print(json.dumps(blas_info(a.threads)), flush=True)
        return
    if a.workload == "vae":
        ms = run_vae(a.batch, a.steps)
    elif a.workload == "bnn-mlp":
        ms = run_bnn(a.batch, a.steps)
    else:
        ms = run_classifier(a.workload, a.batch, a.steps)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"workload": a.workload, "batch": a.batch, "ms": round(ms, 2),
                      "images_per_s": round(a.batch * 1000 / ms), "max_rss_mib": round(rss)}), flush=True)


if __name__ == "__main__":
    main()
