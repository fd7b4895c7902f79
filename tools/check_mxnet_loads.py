#!/usr/bin/env python3
"""Check that MXNet loads symbol JSON files written by deconv and agrees with it.

Usage (MXNet 1.x in the interpreter, e.g. the reference venv):

  /opt/mxref/bin/python tools/check_mxnet_loads.py CASE.json [CASE.json ...]

Each CASE.json (written by deconv's tests, see tests/testthat/test-symbol-mxnet.R)
is an object with fields, all arrays and dims in R order (MXNet's reversed):

  symbol_file   path of the symbol JSON deconv wrote (relative to CASE.json's folder)
  arguments     deconv's arguments(sym)
  outputs       deconv's outputs(sym)
  arg_shapes    {name: dims} from deconv's mx.symbol.infer.shape
  out_shape     dims of the (single) output
  inputs        {name: {"dim": [...], "values": [...]}}; values in R (column-major)
                order, which is MXNet's row-major order of the reversed shape
  output        {"dim", "values"}: deconv's forward output
  out_grad      optional {"dim", "values"}: the gradient fed to backward
  grads         optional {name: {"dim", "values"}}: deconv's gradients

For every case MXNet loads the symbol, lists its arguments and outputs, infers the
shapes from the data's shape, binds float64 arrays, runs forward (and backward when
grads are given) and compares with deconv's values (relative error <= 1e-10).
One line per case is printed, "OK <case>" or "FAIL <case>: <why>"; the exit status is
the number of failed cases (0 when all agree).
"""
import json
import os
import sys

import mxnet as mx
import numpy as np

TOL = 1e-10


def as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def rev(s):
    return tuple(int(v) for v in reversed(as_list(s)))


def tensor(t):
    # R's column-major values of dim d are the row-major values of shape rev(d).
    return np.asarray(as_list(t["values"]), dtype=np.float64).reshape(rev(t["dim"]))


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def check_case(path):
    with open(path) as f:
        case = json.load(f)
    sym_path = os.path.join(os.path.dirname(os.path.abspath(path)), case["symbol_file"])
    sym = mx.sym.load(sym_path)
    problems = []
    if sym.list_arguments() != as_list(case["arguments"]):
        problems.append("arguments %s, deconv %s" % (sym.list_arguments(), case["arguments"]))
    if sym.list_outputs() != as_list(case["outputs"]):
        problems.append("outputs %s, deconv %s" % (sym.list_outputs(), case["outputs"]))
    data_shape = rev(case["arg_shapes"]["data"])
    arg_shapes, out_shapes, _ = sym.infer_shape(data=data_shape)
    for name, shape in zip(sym.list_arguments(), arg_shapes):
        want = rev(case["arg_shapes"][name])
        if tuple(shape) != want:
            problems.append("shape of %s %s, deconv %s" % (name, tuple(shape), want))
    if tuple(out_shapes[0]) != rev(case["out_shape"]):
        problems.append("output shape %s, deconv %s" % (tuple(out_shapes[0]), rev(case["out_shape"])))
    if problems:
        return problems

    args = {n: mx.nd.array(tensor(t), dtype="float64") for n, t in case["inputs"].items()}
    want_grads = case.get("grads") or {}
    grads = {n: mx.nd.zeros(args[n].shape, dtype="float64") for n in want_grads}
    reqs = {n: ("write" if n in want_grads else "null") for n in sym.list_arguments()}
    ex = sym.bind(mx.cpu(), args, args_grad=grads or None, grad_req=reqs)
    out = ex.forward(is_train=bool(want_grads))[0].asnumpy()
    err = rel_err(out, tensor(case["output"]))
    if err > TOL:
        problems.append("forward output differs: relative error %.3g" % err)
    if want_grads:
        ex.backward(out_grads=[mx.nd.array(tensor(case["out_grad"]), dtype="float64")])
        for n, t in want_grads.items():
            err = rel_err(grads[n].asnumpy(), tensor(t))
            if err > TOL:
                problems.append("gradient of %s differs: relative error %.3g" % (n, err))
    return problems


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    failed = 0
    for path in argv[1:]:
        try:
            problems = check_case(path)
        except Exception as e:  # MXNet errors are the point of the check: report them
            problems = ["%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else "")]
        name = os.path.basename(path)
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            print("OK %s" % name)
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv))
