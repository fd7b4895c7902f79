"""Peer timings for inst/bench/bench.R: PyTorch's conv_transpose{1,2,3}d.

Run by bench.R as `PYTHON peers.py SPEC.json`; prints one JSON object on stdout.
SPEC holds the layers, the dtype, the thread count and the repetition policy, which is
the same as bench.R's (see `measure`). `PYTHON peers.py --probe` prints only what this
torch is (version, oneDNN, BLAS) and exits.

Inputs are made from the same integer formula as in bench.R, in the same memory order
(R's reversed dims are PyTorch's row-major NC... tensors), so the outputs can be compared
by checksum: bench.R checks that both sides computed the same thing.
"""

import json
import re
import statistics
import sys
import time


def probe(torch):
    show = torch.__config__.show()
    onednn = re.search(r"(?:MKL-DNN|oneDNN)\s+v?([0-9][0-9.]*)", show)
    blas = re.search(r"BLAS_INFO=([^,\s]+)", show)
    cap = re.search(r"CPU capability usage:\s*(\S+)", show)
    return {
        "version": torch.__version__,
        "onednn": onednn.group(1) if onednn else None,
        "mkldnn_enabled": bool(torch.backends.mkldnn.is_available()
                               and torch.backends.mkldnn.enabled),
        "blas": blas.group(1) if blas else None,
        "cpu_capability": cap.group(1) if cap else None,
        "python": sys.executable,
    }


def pattern(n, mult, dtype, torch):
    """((i * mult) mod 1000) / 1000 - 0.5 for i = 0..n-1, computed exactly in int64."""
    i = torch.arange(n, dtype=torch.int64)
    return (((i * mult) % 1000).to(torch.float64) / 1000.0 - 0.5).to(dtype)


def checksum(t, torch):
    """[sum, sum weighted by pattern(613), sum of |.|] in double, over memory order."""
    v = t.detach().double().flatten()
    wt = pattern(v.numel(), 613, torch.float64, torch)
    return [float(v.sum()), float((v * wt).sum()), float(v.abs().sum())]


def measure(fn, policy):
    """Warm-up, then the median over k timed batches of b calls (seconds per call).

    One untimed call; then timed single calls until `warm_s` has passed (at least one)
    give an estimate t. A batch is b = ceil(min_batch_s / t) calls, so sub-millisecond
    calls are not timed one by one; k = target_s / (b t), clamped to [min_k, max_k].
    bench.R applies exactly this policy to its own calls.
    """
    fn()
    times = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start >= policy["warm_s"]:
            break
    est = max(min(times), 1e-9)
    b = max(1, int(-(-policy["min_batch_s"] // est)))
    k = int(round(policy["target_s"] / (b * est)))
    k = max(policy["min_k"], min(policy["max_k"], k))
    samples = []
    for _ in range(k):
        t0 = time.perf_counter()
        for _ in range(b):
            fn()
        samples.append((time.perf_counter() - t0) / b)
    return {"median_s": statistics.median(samples), "min_s": min(samples), "k": k, "batch": b}


def run_layer(torch, layer, dtype, policy, backward):
    d = len(layer["kernel"])
    conv = {1: torch.nn.functional.conv_transpose1d,
            2: torch.nn.functional.conv_transpose2d,
            3: torch.nn.functional.conv_transpose3d}[d]
    n, c, f, g = layer["N"], layer["C"], layer["F"], layer["groups"]
    spatial = layer["spatial"]  # MXNet/PyTorch order (D, H, W)
    kernel = layer["kernel"]
    x_shape = [n, c] + spatial
    w_shape = [c, f // g] + kernel
    numel = lambda s: int(torch.tensor(s).prod().item())
    x = pattern(numel(x_shape), 7919, dtype, torch).reshape(x_shape)
    w = pattern(numel(w_shape), 104729, dtype, torch).reshape(w_shape)
    b = pattern(f, 31, dtype, torch)
    kw = dict(stride=layer["stride"], padding=layer["pad"], groups=g)

    with torch.no_grad():
        y = conv(x, w, b, **kw)
        out = {"out_shape": list(y.shape)}
        out["check"] = {"y": checksum(y, torch)}
        out["fwd"] = measure(lambda: conv(x, w, b, **kw), policy)
    del y

    if backward:
        xg = x.clone().requires_grad_(True)
        wg = w.clone().requires_grad_(True)
        bg = b.clone().requires_grad_(True)
        y = conv(xg, wg, bg, **kw)
        gy = pattern(y.numel(), 613, dtype, torch).reshape(y.shape)
        grads = lambda: torch.autograd.grad(y, (xg, wg, bg), gy, retain_graph=True)
        gx, gw, gb = grads()
        out["check"].update(dx=checksum(gx, torch), dw=checksum(gw, torch),
                            db=checksum(gb, torch))
        out["bwd"] = measure(grads, policy)
    return out


def main():
    import torch  # noqa: E402  (imported here so a missing torch fails with a clear message)

    if sys.argv[1:] == ["--probe"]:
        print(json.dumps({"peer": probe(torch)}))
        return
    with open(sys.argv[1]) as fh:
        spec = json.load(fh)
    torch.set_num_threads(int(spec["threads"]))
    dtype = {"float32": torch.float32, "float64": torch.float64}[spec["dtype"]]
    info = probe(torch)
    info["threads"] = torch.get_num_threads()
    results = {}
    for layer in spec["layers"]:
        try:
            results[layer["name"]] = run_layer(torch, layer, dtype, spec["policy"],
                                               spec.get("backward", True))
        except Exception as e:  # report and go on with the next layer
            results[layer["name"]] = {"error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps({"peer": info, "results": results}))


if __name__ == "__main__":
    main()
