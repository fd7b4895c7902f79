"""What the peer scripts of inst/bench/bench.R share (peers.py, peers_onnx.py).

The protocol: bench.R runs `PYTHON SCRIPT [OPTIONS] SPEC.json`, where SPEC holds the layers
(as layers.R reads them from layers.csv), the dtype, the thread count, whether to time the
backward pass and the repetition policy; the script prints one JSON object on stdout,
{"peer": {what the peer is}, "results": {layer name: {...}}}. A layer's result holds
"out_shape" (in the layer's layout order), "check" (checksums of the output and, with a
backward pass, of the three gradients), "fwd" (and "bwd") timings from measure(), an
optional "note", or "error" when the peer could not run the layer. `SCRIPT --probe` prints
only {"peer": ...}.

Inputs come from the same integer formula as bench.R's pattern(), in the same memory order
(R's reversed dims are row-major in the layout's order: NC... for NCW/NCHW/NCDHW, N...C for
NHWC/NDHWC), so both sides' results can be compared by checksum.
"""

import json
import statistics
import sys
import time

import numpy as np


def pattern(n, mult, dtype=np.float64):
    """((i * mult) mod 1000) / 1000 - 0.5 for i = 0..n-1, computed exactly in int64."""
    i = np.arange(n, dtype=np.int64)
    return (((i * mult) % 1000).astype(np.float64) / 1000.0 - 0.5).astype(dtype)


def channels_last(layer):
    """NHWC and NDHWC: the channel axis comes last in memory."""
    return layer["layout"][1] != "C"


def to_memory_order(a, last):
    """An array in the logical N, C, spatial... (or C, F/g, kernel...) order, moved to the
    layout's memory order when the channels come last (weights of those layouts are
    (C, kernel..., F/g) in MXNet, the same move)."""
    return np.moveaxis(a, 1, -1) if last and a.ndim > 2 else a


def from_memory(flat, logical_shape, last):
    """A logical-order view of `flat`, which is in the layout's memory order."""
    if not last:
        return flat.reshape(logical_shape)
    mem_shape = [logical_shape[0]] + list(logical_shape[2:]) + [logical_shape[1]]
    return np.moveaxis(flat.reshape(mem_shape), -1, 1)


def layer_inputs(layer, dtype):
    """x, w, b as numpy arrays in logical order (views of memory-order data, so channels-last
    layers get channels-last strides), as bench.R makes them."""
    n, c, f, g = layer["N"], layer["C"], layer["F"], layer["groups"]
    last = channels_last(layer)
    x_shape = [n, c] + list(layer["spatial"])
    w_shape = [c, f // g] + list(layer["kernel"])
    x = from_memory(pattern(int(np.prod(x_shape)), 7919, dtype), x_shape, last)
    w = from_memory(pattern(int(np.prod(w_shape)), 104729, dtype), w_shape, last)
    b = pattern(f, 31, dtype)
    return x, w, b


def out_gradient(layer, out_shape, dtype):
    """dY for the backward pass, in logical order (bench.R's pattern(613) in memory order)."""
    return from_memory(pattern(int(np.prod(out_shape)), 613, dtype), list(out_shape),
                       channels_last(layer))


def layout_shape(layer, shape):
    """A logical N, C, spatial... shape in the layout's order (what bench.R compares)."""
    shape = list(shape)
    return shape[:1] + shape[2:] + shape[1:2] if channels_last(layer) else shape


def checksum(a, layer):
    """[sum, sum weighted by pattern(613), sum of |.|] in double, over the layout's memory
    order; `a` is in logical order (a numpy array, any strides)."""
    v = np.ascontiguousarray(to_memory_order(np.asarray(a), channels_last(layer)),
                             dtype=np.float64).ravel()
    wt = pattern(v.size, 613)
    return [float(v.sum()), float((v * wt).sum()), float(np.abs(v).sum())]


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


def serve(argv, probe, run_layer, set_threads=None):
    """The protocol above: `--probe`, or SPEC.json -> results of run_layer(layer, dtype,
    policy, backward, threads) per layer; a layer that raises is reported and the next one
    runs. set_threads(n), where the peer has a global thread count, returns the count the
    peer then reports."""
    if argv == ["--probe"]:
        print(json.dumps({"peer": probe()}))
        return
    if len(argv) != 1:
        sys.exit("usage: %s [OPTIONS] SPEC.json | --probe" % sys.argv[0])
    with open(argv[0]) as fh:
        spec = json.load(fh)
    threads = int(spec["threads"])
    info = probe()
    info["threads"] = set_threads(threads) if set_threads else threads
    results = {}
    for layer in spec["layers"]:
        try:
            results[layer["name"]] = run_layer(layer, spec["dtype"], spec["policy"],
                                               spec.get("backward", True), threads)
        except Exception as e:  # report and go on with the next layer
            results[layer["name"]] = {"error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps({"peer": info, "results": results}))
