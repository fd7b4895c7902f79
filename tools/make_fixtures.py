#!/usr/bin/env python3
"""Generate the reference test fixtures for the deconv R package.

The fixtures are produced by real MXNet 1.9.1 (CPU, ``mx.nd.Deconvolution``,
gradients through ``mx.autograd``) and, for what MXNet's CPU build cannot run
or gets wrong, by PyTorch (``torch.nn.functional.conv_transpose{1,2,3}d``,
weight (C_in, C_out/groups, k...) as in MXNet, padding = pad,
output_padding = adj, dilation = dilate, groups = num_group):

* 3D float64 (MXNet: "Only 1D or 2D Deconvolution is natively supported")
* 3D with dilate > 1 (MXNet: "Dilate is not supported in 3d deconvolution")
* 1D/2D float64 with stride > 1 and dilate > 1 in the same dimension: MXNet's
  native (mshadow) forward, used for float64, computes wrong values there
  (gradients are right; float32 through oneDNN is right).  Such cases are
  never taken from MXNet's native path (see native_forward_bug()).

MXNet float32 runs through oneDNN (MKLDNN), which fails for target_shape
unless pad equals the computed padding; float32 cases with target_shape are
therefore run in a child process with MXNET_MKLDNN_ENABLED=0 (MXNet's native
CPU code).  3D cases with target_shape cannot be run by MXNet CPU at all and
are not generated.

The script has three parts, each writing its own files under
``tests/testthat/fixtures/``:

  mxnet    -> mxnet_cases.json + mxnet_cases.bin     (needs mxnet 1.9.1, numpy)
  symbols  -> symbols/*.json                         (needs mxnet 1.9.1, numpy)
  torch    -> torch_cases.json + torch_cases.bin     (needs torch, numpy)

How to run (from the repository root):

  # MXNet 1.9.1 lives in a venv: pip install mxnet==1.9.1 "numpy<1.24"
  /opt/mxref/bin/python tools/make_fixtures.py mxnet symbols
  # PyTorch from Debian (apt-get install python3-torch; torch 1.13, numpy)
  /usr/bin/python3 tools/make_fixtures.py torch

Without arguments every part whose library can be imported is run.  All
random choices are seeded, so re-running reproduces the same inputs
(outputs may differ in the last bits of float32 results if the BLAS /
oneDNN kernels differ).

Fixture format (read in R with jsonlite + readBin):

* ``*.bin`` is a flat little-endian float64 array, no header.
* ``*.json`` is an array of case objects with fields id, source, dtype,
  layout, kernel, stride, dilate, pad, adj, target_shape, num_filter,
  num_group, no_bias, data_dim, weight_dim, out_dim, data_off, weight_off,
  bias_off (-1 when no bias), out_off and optionally grad = {out_grad_off,
  data_grad_off, weight_grad_off, bias_grad_off (-1 when no bias)}.
* Every tuple and every dim vector is stored in R order, i.e. the
  MXNet/numpy order reversed (kernel (kh, kw) -> [kw, kh], data shape
  (N, C, H, W) -> [W, H, C, N]).  Values are written in numpy C order, which
  is R's column-major order for the reversed dims.  Offsets are element
  (not byte) offsets into the .bin file.
* float32 cases: the inputs are drawn in float64, rounded to float32 and
  these (exactly representable) values are stored; outputs and gradients are
  the float32 results of the library widened to float64.
* The parameters stored are exactly those passed to the library.  In cases
  with target_shape, MXNet ignores pad and adj (they are recomputed from the
  target), but the values passed are still recorded.
"""

import json
import os
import sys
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXDIR = os.path.join(ROOT, "tests", "testthat", "fixtures")
LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}

# limits on tensor sizes (elements), to keep the fixture files small
MAX_DATA = 240
MAX_WEIGHT = 360
MAX_OUT = 640


# --------------------------------------------------------------------------
# helpers shared by the parts
# --------------------------------------------------------------------------

def rev(t):
    """Tuple/shape in R order (reversed), as a list of ints."""
    return [int(v) for v in reversed(list(t))]


def case_rng(case_id):
    """Per-case generator, so the values of one case do not depend on others."""
    return np.random.RandomState(zlib.crc32(case_id.encode("ascii")) & 0x7FFFFFFF)


def natural_out(n_in, k, s, d, p, a):
    return s * (n_in - 1) + d * (k - 1) + 1 - 2 * p + a


class BinWriter(object):
    """Accumulates float64 values and hands back element offsets."""

    def __init__(self):
        self.chunks = []
        self.n = 0

    def add(self, arr):
        flat = np.ascontiguousarray(np.asarray(arr, dtype=np.float64)).ravel(order="C")
        off = self.n
        self.chunks.append(flat)
        self.n += flat.size
        return off

    def write(self, path):
        allv = np.concatenate(self.chunks) if self.chunks else np.zeros(0)
        allv.astype("<f8").tofile(path)


def write_cases(cases, binw, stem):
    os.makedirs(FIXDIR, exist_ok=True)
    jpath = os.path.join(FIXDIR, stem + ".json")
    bpath = os.path.join(FIXDIR, stem + ".bin")
    binw.write(bpath)
    with open(jpath, "w") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        f.write("\n]\n")
    print("wrote %s (%d cases) and %s (%d values)" % (jpath, len(cases), bpath, binw.n))


def sample_params(rng, nd, dtype, *, max_k, max_s, max_d, max_p, max_in,
                  max_n, with_target, allow_user_adj_big=False):
    """Sample one valid parameter set (numpy order) or return None."""
    g_choices = [1, 1, 1, 1, 2, 2, 3, 4, 6]
    G = int(rng.choice(g_choices))
    cg = int(rng.randint(1, 6 // G + 1))
    fg = int(rng.randint(1, 6 // G + 1))
    if rng.rand() < 0.15:       # depthwise (groups == channels)
        G = int(rng.randint(1, 7))
        cg = 1
        fg = int(rng.randint(1, 6 // G + 1))
    C, F = G * cg, G * fg
    N = int(rng.randint(1, max_n + 1))
    k = [int(rng.randint(1, max_k + 1)) for _ in range(nd)]
    s = [int(rng.randint(1, max_s + 1)) for _ in range(nd)]
    d = [int(rng.randint(1, max_d + 1)) for _ in range(nd)]
    p = [int(rng.randint(0, max_p + 1)) for _ in range(nd)]
    a = [int(rng.randint(0, si)) for si in s]
    ins = [int(rng.randint(1, max_in + 1)) for _ in range(nd)]
    target = []
    if with_target:
        target = []
        for i in range(nd):
            full = s[i] * (ins[i] - 1) + d[i] * (k[i] - 1) + 1
            tmax = min(full - 1, 2 * d[i] * (k[i] - 1) + s[i] - 1)
            opts = [t for t in range(0, tmax + 1) if t % 2 < s[i]]
            t = int(rng.choice(opts))
            target.append(full - t)
        if rng.rand() < 0.5:    # pad / adj are then ignored by MXNet
            p = [0] * nd
            a = [0] * nd
        out_sp = list(target)
    else:
        out_sp = [natural_out(ins[i], k[i], s[i], d[i], p[i], a[i]) for i in range(nd)]
    if min(out_sp) < 1:
        return None
    # reject cases whose output would be all zeros (every tap cropped away)
    eff_pad = p
    if target:
        eff_pad = [(s[i] * (ins[i] - 1) + d[i] * (k[i] - 1) + 1 - target[i] + 1) // 2
                   for i in range(nd)]
    for i in range(nd):
        if not any(0 <= j * s[i] - eff_pad[i] + kk * d[i] < out_sp[i]
                   for j in range(ins[i]) for kk in range(k[i])):
            return None
    no_bias = bool(rng.rand() < 0.35)
    prm = dict(nd=nd, dtype=dtype, N=N, C=C, F=F, G=G, kernel=k, stride=s,
               dilate=d, pad=p, adj=a, target_shape=target, ins=ins,
               no_bias=no_bias, out_sp=out_sp)
    return prm if sizes_ok(prm) else None


def shapes(prm):
    dshape = (prm["N"], prm["C"]) + tuple(prm["ins"])
    wshape = (prm["C"], prm["F"] // prm["G"]) + tuple(prm["kernel"])
    oshape = (prm["N"], prm["F"]) + tuple(prm["out_sp"])
    return dshape, wshape, oshape


def sizes_ok(prm):
    dshape, wshape, oshape = shapes(prm)
    return (np.prod(dshape) <= MAX_DATA and np.prod(wshape) <= MAX_WEIGHT
            and np.prod(oshape) <= MAX_OUT)


def make_inputs(case_id, prm):
    """Seeded inputs in float64 (rounded to float32 for float32 cases)."""
    rng = case_rng(case_id)
    dshape, wshape, oshape = shapes(prm)
    # each output element sums about C/G * prod(kernel/stride) products
    fan = (prm["C"] // prm["G"]) * max(1.0, float(np.prod(
        [prm["kernel"][i] / prm["stride"][i] for i in range(prm["nd"])])))
    x = rng.standard_normal(dshape)
    w = rng.standard_normal(wshape) / np.sqrt(fan)
    b = rng.standard_normal(prm["F"]) * 0.5
    og = rng.standard_normal(oshape)
    if prm["dtype"] == "float32":
        x, w, b, og = (v.astype(np.float32).astype(np.float64) for v in (x, w, b, og))
    return x, w, b, og


def record_case(cases, binw, case_id, source, prm, x, w, b, out, grads):
    """grads: None or dict(og=, dx=, dw=, db=)."""
    nd = prm["nd"]
    dshape, wshape, oshape = shapes(prm)
    assert tuple(out.shape) == oshape, (case_id, out.shape, oshape)
    c = dict(id=case_id, source=source, dtype=prm["dtype"], layout=LAYOUTS[nd],
             kernel=rev(prm["kernel"]), stride=rev(prm["stride"]),
             dilate=rev(prm["dilate"]), pad=rev(prm["pad"]), adj=rev(prm["adj"]),
             target_shape=rev(prm["target_shape"]),
             num_filter=int(prm["F"]), num_group=int(prm["G"]),
             no_bias=bool(prm["no_bias"]),
             data_dim=rev(dshape), weight_dim=rev(wshape), out_dim=rev(oshape))
    c["data_off"] = binw.add(x)
    c["weight_off"] = binw.add(w)
    c["bias_off"] = -1 if prm["no_bias"] else binw.add(b)
    c["out_off"] = binw.add(out)
    if grads is not None:
        assert grads["dx"].shape == dshape and grads["dw"].shape == wshape
        g = dict(out_grad_off=binw.add(grads["og"]),
                 data_grad_off=binw.add(grads["dx"]),
                 weight_grad_off=binw.add(grads["dw"]))
        g["bias_grad_off"] = -1 if prm["no_bias"] else binw.add(grads["db"])
        c["grad"] = g
    cases.append(c)


def manual(nd, dtype, N, C, F, G, kernel, stride=None, dilate=None, pad=None,
           adj=None, target_shape=(), ins=None, no_bias=False):
    stride = list(stride or [1] * nd)
    dilate = list(dilate or [1] * nd)
    pad = list(pad or [0] * nd)
    adj = list(adj or [0] * nd)
    if target_shape:
        out_sp = list(target_shape)
    else:
        out_sp = [natural_out(ins[i], kernel[i], stride[i], dilate[i], pad[i], adj[i])
                  for i in range(nd)]
    return dict(nd=nd, dtype=dtype, N=N, C=C, F=F, G=G, kernel=list(kernel),
                stride=stride, dilate=dilate, pad=pad, adj=adj,
                target_shape=list(target_shape), ins=list(ins), no_bias=no_bias,
                out_sp=out_sp)


# --------------------------------------------------------------------------
# MXNet part
# --------------------------------------------------------------------------

def mx_run(mx, prm, x, w, b, og, want_grad):
    nd = mx.nd
    dt = prm["dtype"]
    xs = nd.array(x, dtype=dt)
    ws = nd.array(w, dtype=dt)
    kw = dict(kernel=tuple(prm["kernel"]), stride=tuple(prm["stride"]),
              dilate=tuple(prm["dilate"]), pad=tuple(prm["pad"]),
              adj=tuple(prm["adj"]), num_filter=prm["F"], num_group=prm["G"],
              no_bias=prm["no_bias"])
    if prm["target_shape"]:
        kw["target_shape"] = tuple(prm["target_shape"])
    args = [xs, ws]
    if not prm["no_bias"]:
        args.append(nd.array(b, dtype=dt))
    if want_grad:
        for a in args:
            a.attach_grad(grad_req="write")
        with mx.autograd.record():
            y = nd.Deconvolution(*args, **kw)
        y.backward(nd.array(og, dtype=dt))
    else:
        y = nd.Deconvolution(*args, **kw)
    out = y.asnumpy().astype(np.float64)
    grads = None
    if want_grad:
        grads = dict(og=og, dx=args[0].grad.asnumpy().astype(np.float64),
                     dw=args[1].grad.asnumpy().astype(np.float64),
                     db=None if prm["no_bias"] else args[2].grad.asnumpy().astype(np.float64))
    return out, grads


def mxnet_manual_cases():
    """Hand-picked edge cases (numpy order params)."""
    L = []
    for dt in ("float64", "float32"):
        t = "d" if dt == "float64" else "f"
        # 1D
        L += [
            ("mx1d_%s_pointwise" % t, manual(1, dt, 2, 3, 2, 1, [1], ins=[5])),
            ("mx1d_%s_gaps" % t, manual(1, dt, 1, 2, 3, 1, [1], stride=[3], ins=[4])),
            ("mx1d_%s_k2s3" % t, manual(1, dt, 1, 2, 2, 1, [2], stride=[3], adj=[2], ins=[4])),
            ("mx1d_%s_minimal" % t, manual(1, dt, 1, 1, 1, 1, [1], ins=[1])),
            ("mx1d_%s_in1" % t, manual(1, dt, 2, 2, 3, 1, [4], stride=[2], ins=[1])),
            ("mx1d_%s_depthwise" % t, manual(1, dt, 2, 4, 4, 4, [3], stride=[2], pad=[1], adj=[1], ins=[5])),
            ("mx1d_%s_bigpad" % t, manual(1, dt, 1, 2, 2, 1, [2], stride=[3], pad=[2], ins=[4])),
            ("mx1d_%s_dil3" % t, manual(1, dt, 1, 3, 2, 1, [3], stride=[1 if t == "d" else 2], dilate=[3],
                                        pad=[2], adj=[0 if t == "d" else 1], ins=[4])),
            ("mx1d_%s_target" % t, manual(1, dt, 2, 2, 2, 1, [4], stride=[2], target_shape=[8], ins=[4])),
            ("mx1d_%s_target_adjbig" % t, manual(1, dt, 1, 2, 2, 1, [3], stride=[2], pad=[2], adj=[3],
                                                 target_shape=[8], ins=[4])),
        ]
        # 2D
        L += [
            ("mx2d_%s_pointwise" % t, manual(2, dt, 2, 3, 2, 1, [1, 1], ins=[3, 4])),
            ("mx2d_%s_k4s2p1" % t, manual(2, dt, 1, 3, 2, 1, [4, 4], stride=[2, 2], pad=[1, 1], ins=[3, 4])),
            ("mx2d_%s_nonsquare" % t, manual(2, dt, 2, 2, 3, 1, [3, 5], stride=[2, 1], pad=[1, 2], adj=[1, 0], ins=[3, 4])),
            ("mx2d_%s_depthwise" % t, manual(2, dt, 1, 6, 6, 6, [3, 3], stride=[2, 2], pad=[1, 1], ins=[3, 3])),
            ("mx2d_%s_depthmult" % t, manual(2, dt, 1, 3, 6, 3, [2, 3], stride=[2, 1], ins=[3, 3])),
            ("mx2d_%s_groups2" % t, manual(2, dt, 2, 4, 6, 2, [3, 2], stride=[1, 2], dilate=[2, 1], ins=[3, 3])),
            ("mx2d_%s_gaps" % t, manual(2, dt, 1, 2, 2, 1, [2, 1], stride=[3, 3], adj=[2, 1], ins=[3, 3])),
            ("mx2d_%s_target" % t, manual(2, dt, 1, 2, 3, 1, [4, 4], stride=[2, 2], target_shape=[8, 7], ins=[4, 4])),
            ("mx2d_%s_target_s1" % t, manual(2, dt, 1, 2, 2, 1, [3, 5], stride=[1, 1], target_shape=[4, 5], ins=[4, 5])),
            ("mx2d_%s_target_ignpad" % t, manual(2, dt, 1, 2, 2, 1, [3, 3], stride=[2, 3], pad=[2, 1], adj=[1, 2],
                                                 target_shape=[6, 9], ins=[3, 3])),
        ]
    # 3D (float32 only, dilate 1 only)
    dt = "float32"
    L += [
        ("mx3d_f_pointwise", manual(3, dt, 1, 2, 3, 1, [1, 1, 1], ins=[2, 3, 4])),
        ("mx3d_f_k2s2", manual(3, dt, 1, 2, 2, 1, [2, 2, 2], stride=[2, 2, 2], ins=[2, 3, 3])),
        ("mx3d_f_nonsquare", manual(3, dt, 1, 2, 2, 1, [1, 2, 3], stride=[1, 2, 3], pad=[0, 1, 1], adj=[0, 1, 2], ins=[3, 3, 2])),
        ("mx3d_f_depthwise", manual(3, dt, 1, 3, 3, 3, [3, 3, 3], stride=[2, 2, 1], pad=[1, 1, 1], ins=[2, 2, 3])),
    ]
    return L


def uses_native(prm):
    """True when MXNet 1.9.1 CPU runs the case with its native (mshadow) code.

    float32 1D/2D/3D go through oneDNN (MKLDNN) unless target_shape is set
    (oneDNN then fails and we run the case in a child process with oneDNN
    disabled); float64 always uses the native code.
    """
    return prm["dtype"] == "float64" or bool(prm["target_shape"])


def native_forward_bug(prm):
    """The native forward (mshadow pack_col2patch) is wrong when, in some
    spatial dimension, stride > 1 and dilate > 1 and kernel > 1: its loop
    steps over input positions by `dilate` instead of visiting those with
    (o + pad - i*stride) divisible by dilate.  Gradients are correct.  Such
    cases are not taken from MXNet (see torch part for float64 coverage)."""
    return any(s > 1 and d > 1 and k > 1
               for s, d, k in zip(prm["stride"], prm["dilate"], prm["kernel"]))


def part_mxnet():
    import mxnet as mx
    assert mx.__version__ == "1.9.1", mx.__version__
    rng = np.random.RandomState(20240101)
    todo = mxnet_manual_cases()
    # random cases: (prefix, nd, dtype, count, sampler kwargs)
    plan = [
        ("mx1d_d", 1, "float64", 36, dict(max_k=5, max_s=3, max_d=3, max_p=2, max_in=7, max_n=3)),
        ("mx1d_f", 1, "float32", 30, dict(max_k=5, max_s=3, max_d=3, max_p=2, max_in=7, max_n=3)),
        ("mx2d_d", 2, "float64", 46, dict(max_k=5, max_s=3, max_d=3, max_p=2, max_in=5, max_n=3)),
        ("mx2d_f", 2, "float32", 40, dict(max_k=5, max_s=3, max_d=3, max_p=2, max_in=5, max_n=3)),
        ("mx3d_f", 3, "float32", 28, dict(max_k=3, max_s=3, max_d=1, max_p=2, max_in=3, max_n=2)),
    ]
    for prefix, nd, dt, count, kw in plan:
        made = 0
        while made < count:
            # MXNet CPU cannot run 3D with target_shape (oneDNN fails, no native 3D)
            with_target = nd < 3 and rng.rand() < 0.2
            prm = sample_params(rng, nd, dt, with_target=with_target, **kw)
            if prm is None or (uses_native(prm) and native_forward_bug(prm)):
                continue
            made += 1
            todo.append(("%s_%03d" % (prefix, made), prm))

    for case_id, prm in todo:
        assert not (uses_native(prm) and native_forward_bug(prm)), case_id
    grad_rng = np.random.RandomState(777)
    todo = [(cid, prm, bool(grad_rng.rand() < 0.65)) for cid, prm in todo]
    # float32 with target_shape fails in the oneDNN (MKLDNN) path of the
    # default CPU build ("could not create a descriptor for a dilated
    # deconvolution forward propagation primitive"); those cases are run by
    # MXNet's native CPU implementation in a child process with
    # MXNET_MKLDNN_ENABLED=0.
    native = [t for t in todo if t[1]["dtype"] == "float32" and t[1]["target_shape"]]
    native_res = run_native_child(native)

    cases, binw = [], BinWriter()
    for case_id, prm, want_grad in todo:
        x, w, b, og = make_inputs(case_id, prm)
        if case_id in native_res:
            out, grads = native_res[case_id]
        else:
            out, grads = mx_run(mx, prm, x, w, b, og, want_grad)
        record_case(cases, binw, case_id, "mxnet", prm, x, w, b, out, grads)
    write_cases(cases, binw, "mxnet_cases")


def run_native_child(todo):
    """Run cases in a child MXNet process with oneDNN disabled."""
    import subprocess
    import tempfile
    if not todo:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        req = os.path.join(tmp, "req.json")
        res = os.path.join(tmp, "res.npz")
        with open(req, "w") as f:
            json.dump(todo, f)
        env = dict(os.environ, MXNET_MKLDNN_ENABLED="0",
                   MXNET_STORAGE_FALLBACK_LOG_VERBOSE="0")
        subprocess.check_call([sys.executable, os.path.abspath(__file__),
                               "_native_worker", req, res], env=env)
        z = np.load(res)
        out = {}
        for case_id, prm, want_grad in todo:
            grads = None
            if want_grad:
                x, w, b, og = make_inputs(case_id, prm)
                grads = dict(og=og, dx=z[case_id + "/dx"], dw=z[case_id + "/dw"],
                             db=None if prm["no_bias"] else z[case_id + "/db"])
            out[case_id] = (z[case_id + "/out"], grads)
        return out


def native_worker(req, res):
    import mxnet as mx
    assert os.environ.get("MXNET_MKLDNN_ENABLED") == "0"
    with open(req) as f:
        todo = json.load(f)
    z = {}
    for case_id, prm, want_grad in todo:
        x, w, b, og = make_inputs(case_id, prm)
        out, grads = mx_run(mx, prm, x, w, b, og, want_grad)
        z[case_id + "/out"] = out
        if grads is not None:
            for k in ("dx", "dw", "db"):
                if grads[k] is not None:
                    z[case_id + "/" + k] = grads[k]
    np.savez(res, **z)


# --------------------------------------------------------------------------
# PyTorch part (what MXNet's CPU build cannot run)
# --------------------------------------------------------------------------

def torch_run(torch, prm, x, w, b, og, want_grad):
    import torch.nn.functional as Fn
    assert not prm["target_shape"]
    tdt = torch.float64 if prm["dtype"] == "float64" else torch.float32
    fn = {1: Fn.conv_transpose1d, 2: Fn.conv_transpose2d, 3: Fn.conv_transpose3d}[prm["nd"]]
    xt = torch.tensor(x, dtype=tdt, requires_grad=want_grad)
    wt = torch.tensor(w, dtype=tdt, requires_grad=want_grad)
    bt = None if prm["no_bias"] else torch.tensor(b, dtype=tdt, requires_grad=want_grad)
    y = fn(xt, wt, bt, stride=tuple(prm["stride"]), padding=tuple(prm["pad"]),
           output_padding=tuple(prm["adj"]), groups=prm["G"],
           dilation=tuple(prm["dilate"]))
    grads = None
    if want_grad:
        y.backward(torch.tensor(og, dtype=tdt))
        grads = dict(og=og, dx=xt.grad.double().numpy(), dw=wt.grad.double().numpy(),
                     db=None if bt is None else bt.grad.double().numpy())
    return y.detach().double().numpy(), grads


def part_torch():
    import torch
    torch.set_num_threads(1)
    rng = np.random.RandomState(20240202)
    todo = []
    for dt in ("float64", "float32"):
        t = "d" if dt == "float64" else "f"
        todo += [
            ("pt3d_%s_dil_k3" % t, manual(3, dt, 1, 2, 2, 1, [3, 3, 3], stride=[2, 1, 2], dilate=[2, 3, 1],
                                          pad=[1, 2, 0], adj=[1, 0, 1], ins=[2, 3, 3])),
            ("pt3d_%s_dil_depthwise" % t, manual(3, dt, 1, 3, 3, 3, [2, 3, 2], stride=[1, 2, 2], dilate=[3, 2, 2],
                                                 pad=[1, 1, 2], adj=[0, 1, 0], ins=[2, 2, 3])),
        ]
    todo += [
        ("pt3d_d_pointwise", manual(3, "float64", 2, 2, 3, 1, [1, 1, 1], ins=[2, 2, 3])),
        ("pt3d_d_gaps", manual(3, "float64", 1, 2, 2, 1, [1, 2, 1], stride=[3, 3, 2], adj=[2, 1, 1], ins=[2, 2, 3])),
        ("pt3d_d_k4s2p1", manual(3, "float64", 1, 2, 2, 1, [4, 4, 4], stride=[2, 2, 2], pad=[1, 1, 1], ins=[2, 2, 2])),
        ("pt3d_d_groups2", manual(3, "float64", 1, 4, 2, 2, [2, 3, 2], stride=[2, 1, 2], pad=[0, 1, 1], ins=[2, 3, 2])),
    ]
    # 1D/2D float64 with stride > 1 and dilate > 1 in the same dimension:
    # MXNet's native float64 forward gets these wrong (see native_forward_bug).
    plan = [
        ("pt1d_d", 1, "float64", 8, dict(max_k=5, max_s=3, max_d=3, max_p=2, max_in=6, max_n=2)),
        ("pt2d_d", 2, "float64", 10, dict(max_k=4, max_s=3, max_d=3, max_p=2, max_in=4, max_n=2)),
        ("pt3d_d", 3, "float64", 30, dict(max_k=3, max_s=3, max_d=3, max_p=2, max_in=3, max_n=2)),
        ("pt3d_f", 3, "float32", 12, dict(max_k=3, max_s=3, max_d=3, max_p=2, max_in=3, max_n=2)),
    ]
    for prefix, nd, dt, count, kw in plan:
        made = 0
        while made < count:
            prm = sample_params(rng, nd, dt, with_target=False, **kw)
            if prm is None:
                continue
            if nd < 3 and not native_forward_bug(prm):
                continue
            if dt == "float32" and max(prm["dilate"]) == 1:
                continue    # MXNet covers 3D float32 without dilation
            made += 1
            todo.append(("%s_%03d" % (prefix, made), prm))

    cases, binw = [], BinWriter()
    grad_rng = np.random.RandomState(888)
    for case_id, prm in todo:
        want_grad = bool(grad_rng.rand() < 0.8)
        x, w, b, og = make_inputs(case_id, prm)
        out, grads = torch_run(torch, prm, x, w, b, og, want_grad)
        record_case(cases, binw, case_id, "torch", prm, x, w, b, out, grads)
    write_cases(cases, binw, "torch_cases")


# --------------------------------------------------------------------------
# MXNet-written symbol JSON
# --------------------------------------------------------------------------

def tensor_json(arr):
    arr = np.asarray(arr, dtype=np.float64)
    return {"dim": rev(arr.shape), "values": [float(v) for v in arr.ravel(order="C")]}


def part_symbols():
    import mxnet as mx
    sdir = os.path.join(FIXDIR, "symbols")
    os.makedirs(sdir, exist_ok=True)

    def save_expected(name, sym, data_shape, extra=None):
        sym.save(os.path.join(sdir, name + ".json"))
        arg_shapes, out_shapes, aux_shapes = sym.infer_shape(data=data_shape)
        exp = {
            "symbol_file": name + ".json",
            "data_shape": rev(data_shape),
            "arguments": sym.list_arguments(),
            "arg_shapes": {n: rev(s) for n, s in zip(sym.list_arguments(), arg_shapes)},
            "outputs": sym.list_outputs(),
            "out_shape": rev(out_shapes[0]),
        }
        if extra:
            exp.update(extra)
        with open(os.path.join(sdir, name + "_expected.json"), "w") as f:
            f.write("{\n")
            f.write(",\n".join(" %s: %s" % (json.dumps(k), json.dumps(v, separators=(",", ":")))
                               for k, v in exp.items()))
            f.write("\n}\n")
        print("wrote symbols/%s.json and %s_expected.json" % (name, name))
        return arg_shapes, out_shapes

    # fresh name scope so auto-names are deconvolution0, deconvolution1, ...
    with mx.name.NameManager():
        # (a) single unnamed Deconvolution
        data = mx.sym.Variable("data")
        a = mx.sym.Deconvolution(data, kernel=(4, 4), stride=(2, 2), pad=(1, 1), num_filter=3)
        save_expected("deconv_single", a, (2, 2, 5, 6))

        # (b) two-layer decoder with forward values
        data = mx.sym.Variable("data")
        up1 = mx.sym.Deconvolution(data, kernel=(4, 4), stride=(2, 2), pad=(1, 1),
                                   num_filter=8, no_bias=False, name="up1")
        up2 = mx.sym.Deconvolution(up1, kernel=(2, 2), stride=(2, 2), num_filter=3,
                                   num_group=1, target_shape=(11, 12), name="up2")
        dshape = (1, 4, 3, 3)
        arg_shapes, _, _ = up2.infer_shape(data=dshape)
        rng = np.random.RandomState(4242)
        vals = {}
        for n, s in zip(up2.list_arguments(), arg_shapes):
            if n == "data":
                vals[n] = rng.standard_normal(s)
            elif n.endswith("_weight"):
                vals[n] = rng.standard_normal(s) / np.sqrt(s[0] * np.prod(s[2:]) / 4.0)
            else:
                vals[n] = rng.standard_normal(s) * 0.5
        ex = up2.bind(mx.cpu(), {n: mx.nd.array(v, dtype="float64") for n, v in vals.items()},
                      grad_req="null")
        out = ex.forward(is_train=False)[0].asnumpy().astype(np.float64)
        save_expected("decoder_2layer", up2, dshape, extra={
            "dtype": "float64",
            "inputs": {n: tensor_json(v) for n, v in vals.items()},
            "output": tensor_json(out),
        })

        # (c) 1D with dilate and adj
        data = mx.sym.Variable("data")
        c = mx.sym.Deconvolution(data, kernel=(3,), stride=(2,), dilate=(2,), adj=(1,),
                                 pad=(1,), num_filter=4, no_bias=False, name="dec1d")
        save_expected("deconv_1d", c, (2, 3, 7))

        # (d) 3D
        data = mx.sym.Variable("data")
        d = mx.sym.Deconvolution(data, kernel=(2, 3, 3), stride=(2, 1, 2), pad=(0, 1, 1),
                                 adj=(1, 0, 1), num_filter=4, num_group=2, name="dec3d")
        save_expected("deconv_3d", d, (1, 2, 3, 4, 5))

        # (e) graph with an op the package does not implement
        data = mx.sym.Variable("data")
        e = mx.sym.Deconvolution(data, kernel=(3, 3), stride=(2, 2), num_filter=2, name="dec")
        e = mx.sym.Activation(e, act_type="relu", name="relu")
        e.save(os.path.join(sdir, "deconv_relu.json"))
        print("wrote symbols/deconv_relu.json")


def main(argv):
    parts = argv[1:]
    if parts and parts[0] == "_native_worker":
        native_worker(parts[1], parts[2])
        return
    if not parts:
        from importlib.util import find_spec
        if find_spec("mxnet") is not None:
            parts += ["mxnet", "symbols"]
        if find_spec("torch") is not None:
            parts += ["torch"]
    for p in parts:
        {"mxnet": part_mxnet, "symbols": part_symbols, "torch": part_torch}[p]()


if __name__ == "__main__":
    main(sys.argv)
