#!/usr/bin/python3
"""The PyTorch peer of isbench's MLP benchmarks (bench/bench.c).

Runs the same MNIST MLP step (784-512-512-10, ReLU, softmax cross-entropy,
L2 1e-5 on weights, RMSprop lr 1e-3 rho 0.9 eps 1e-7, batch 128) and the
same upper-bound step (score B = factor * b candidates with a forward pass
without gradients, draw b with p proportional to ||softmax - onehot||,
train on them with weights 1 / (B p)), on random inputs, and prints one
line per configuration:

    torch STEP threads=T samples_per_second=S ms_per_step=M

Configured fairly: denormals flushed, every thread count from 1 to the
core count tried, the best reported by the caller. The upper-bound step
runs a second forward pass on the chosen rows, as the reference library
does: autograd cannot reuse rows of a pass that ran without gradients.
"""
import os
import statistics
import sys
import time

import torch


def make_model():
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 10))
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    # Keras's l2(1e-5) adds 1e-5 * sum(w^2) to the loss: gradient 2e-5 w.
    opt = torch.optim.RMSprop(
        [{"params": weights, "weight_decay": 2e-5},
         {"params": biases, "weight_decay": 0.0}],
        lr=1e-3, alpha=0.9, eps=1e-7)
    return model, opt


def uniform_step(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()


def upper_bound_step(model, opt, x_pool, y_pool, b):
    big = x_pool.shape[0]
    with torch.no_grad():
        p = torch.softmax(model(x_pool), dim=1)
        p[torch.arange(big), y_pool] -= 1.0
        score = p.norm(dim=1)
        prob = score / score.sum()
    rows = torch.multinomial(prob, b, replacement=True)
    w = 1.0 / (big * prob[rows])
    opt.zero_grad(set_to_none=True)
    losses = torch.nn.functional.cross_entropy(
        model(x_pool[rows]), y_pool[rows], reduction="none")
    (w * losses).mean().backward()
    opt.step()


def time_steps(fn, steps, reps):
    for _ in range(5):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        times.append((time.perf_counter() - t0) / steps)
    return statistics.median(times)


def main():
    torch.set_flush_denormal(True)
    torch.manual_seed(1)
    b = 128
    cores = os.cpu_count() or 1
    reps = int(os.environ.get("ISB_BENCH_REPS", "7"))
    for threads in range(1, cores + 1):
        torch.set_num_threads(threads)
        model, opt = make_model()
        x = torch.rand(b, 784)
        y = torch.randint(0, 10, (b,))
        t = time_steps(lambda: uniform_step(model, opt, x, y), 20, reps)
        print(f"torch mlp_uniform threads={threads} "
              f"samples_per_second={b / t:.1f} ms_per_step={1e3 * t:.4f}")
        for factor in (3, 5):
            xp = torch.rand(factor * b, 784)
            yp = torch.randint(0, 10, (factor * b,))
            t = time_steps(
                lambda: upper_bound_step(model, opt, xp, yp, b), 20, reps)
            print(f"torch mlp_upper_bound_{factor} threads={threads} "
                  f"samples_per_second={b / t:.1f} "
                  f"ms_per_step={1e3 * t:.4f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
