#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz targets into tests/fuzz/corpus/<target>/.

The committed corpus is these seeds plus what short fuzzing runs found, minimized to a
few dozen files that keep the same edge coverage:

  build/fuzz/fuzz/T -set_cover_merge=1 -use_counters=0 NEW tests/fuzz/corpus/T WORK

(set_cover_merge is -merge=1 with a greedy set cover; WORK is build/fuzz/work/T after
`make fuzz`); NEW then replaces tests/fuzz/corpus/T. Run this script only to start a
corpus afresh. The byte layouts follow the targets' ByteReader use (byte_reader.h): one
field per byte, front to back.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def edgy(v):
    """The byte ByteReader::edgy() turns into v (-2..17, or a named edge value)."""
    named = {"2^31": 168, "2^31+1": 169, "2^31-1": 170, "2^40": 171, "2^40+1": 172,
             "max": 173, "min": 174, "2^62": 175}
    if v in named:
        return [named[v]]
    assert -2 <= v <= 17, v
    return [v + 2]


def tup(values, mode=2):
    """draw_tuple: a mode byte (0: empty, 2: kernel's length), then the values."""
    out = [mode]
    for v in values:
        out += edgy(v)
    return out


def params(kernel, stride=(), dilate=(), pad=(), adj=(), target=(), nf=1, group=None,
           workspace=None, no_bias=1, cudnn_off=0, tune=0, layout=0, data=None):
    b = [0, len(kernel)]  # mode 0 (fields), rank
    for v in kernel:
        b += edgy(v)
    for t in (stride, dilate, pad, adj, target):
        b += tup(t, 2 if t else 0)
    b += edgy(nf)
    b += [1] if group is None else [0] + edgy(group)
    b += [1] if workspace is None else [0] + edgy(workspace)
    b += [no_bias, cudnn_off, tune, layout]
    b += [0]  # data shape of kernel length + 2
    for v in data or [1, 1] + [4] * len(kernel):
        b += edgy(v)
    return bytes(b)


ATTRS = [
    "kernel=(4, 4)\nstride=(2, 2)\npad=(1, 1)\nnum_filter=8\nno_bias=False\n",
    "kernel=(3,)\nnum_filter=1\nlayout=NCW\n",
    "kernel=[2, 2, 2]\nnum_filter=6\nnum_group=3\ndilate=(2,2,2)\nlayout=NDHWC\n",
    "kernel=(4,4)\nstride=(2,2)\ntarget_shape=(12, 11)\nnum_filter=3\n__shape__=(1, 3, 6, 6)\n",
    "kernel=(3L, 3L)\nnum_filter=512\nworkspace=1024\ncudnn_tune=fastest\ncudnn_off=True\n",
    "kernel=(3, 3)\nnum_filter=8\nadj=(1, 1)\nstride=(2, 2)\ncudnn_tune=limited_workspace\n",
    "kernel=None\nnum_filter=1\n",
    "kernel=(3,,3)\nnum_filter=2\n",
    "kernel=(3, 3)junk\nnum_filter=2\n",
    "kernel=(1099511627777, 1)\nnum_filter=2\n",
    "kernel=(3, 3)\nnum_filter=2.5\n",
    "kernel=(3, 3)\nnum_filter=4\nno_bias=yes\n",
    "kernel=(3, 3)\nnum.filter=4\n",
    "kernel=(3, 3)\nnum_filter=4\nlayout=None\ncudnn_tune=None\n",
    "kernel=(2, 2)\nnum_filter=4\npad=(0, 0)\nlayout=NHWC\n__lr_mult__=1.0\n",
]

KERNEL = [
    # layout, layout_given, N, G, Cg, Fg, use_target, per dim (in, k, s, d, pad, adj),
    # bias, workspace, threads, mask, seed (2 bytes); layouts NCW NCHW NCDHW NHWC NDHWC.
    bytes([1, 1, 0, 0, 0, 0, 1, 3, 3, 1, 0, 1, 1, 1, 2, 0, 7, 0, 1]),
    bytes([1, 0, 1, 1, 2, 1, 1, 4, 3, 1, 0, 1, 0, 4, 3, 1, 0, 1, 0, 0, 2, 1, 7, 1, 2]),
    bytes([2, 1, 0, 2, 0, 2, 1, 2, 2, 1, 1, 0, 0, 2, 1, 0, 0, 0, 0, 2, 2, 1, 0, 0, 0, 1,
           0, 1, 5, 3, 4]),
    bytes([3, 1, 1, 4, 0, 1, 1, 4, 3, 2, 0, 2, 1, 3, 2, 1, 1, 0, 0, 1, 2, 0, 6, 5, 6]),
    bytes([4, 1, 0, 0, 1, 2, 1, 1, 1, 0, 0, 0, 0, 2, 2, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0,
           3, 1, 3, 7, 8]),
    bytes([1, 1, 0, 0, 0, 0, 0, 4, 3, 1, 0, 1, 0, 1, 1, 4, 3, 1, 0, 1, 1, 0, 1, 0, 3, 9,
           9]),  # target_shape in both dimensions
    bytes([0, 1, 1, 2, 0, 0, 1, 8, 3, 2, 2, 3, 1, 1, 3, 1, 4, 1, 2]),
]


def main():
    corpus = os.path.join(HERE, "corpus")
    seeds = {
        "fuzz_attrs": [a.encode() for a in ATTRS],
        "fuzz_params": [b"\x01" + a.encode() + b"\x02\x03\x03\x02" for a in ATTRS[:6]] + [
            params([4, 4], stride=[2, 2], pad=[1, 1], nf=8),
            params([3], nf=2, group=2, data=[1, 2, 7], layout=1),
            params([2, 2, 2], stride=[2, 2, 2], target=[9, 0, 7], nf=3, layout=5,
                   data=[2, 3, 3, 3, 3]),
            params([3, 3], dilate=[2, 2], adj=[1, 0], stride=[2, 1], nf=4, data=[1, 4, 5, 5]),
            params(["2^31", 1], nf=1, data=[1, 1, "2^31", 1]),
            params([3, 3], stride=["2^40", 1], nf=1, data=[1, 1, "2^31", 3]),
            params([1, 1], nf="max", data=["max", "max", 1, 1]),
            params([2, 2], pad=[17, 0], nf=1),
            params([4, 4], target=["2^62", 1], nf=1),
        ],
        "fuzz_kernel": KERNEL,
    }
    for target, items in seeds.items():
        d = os.path.join(corpus, target)
        os.makedirs(d, exist_ok=True)
        for i, data in enumerate(items):
            with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
                f.write(data)
        print("%s: %d seeds in %s" % (target, len(items), d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
