"""Peer timings for inst/bench/bench.R: PyTorch's conv_transpose{1,2,3}d.

Run by bench.R as `PYTHON peers.py SPEC.json` (`--probe`: only what this torch is:
version, oneDNN, BLAS); the protocol, the inputs, the checksums and the repetition policy
are peer_common.py's, shared with peers_onnx.py. Forward and backward (all three
gradients). Channels-last layers (NHWC, NDHWC) run on tensors in torch's channels_last
memory format, which is the same memory as ours, so oneDNN computes them in that layout.
"""

import re
import sys

import numpy as np

import peer_common as pc


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


def run_layer(torch, layer, dtype, policy, backward):
    d = len(layer["kernel"])
    conv = {1: torch.nn.functional.conv_transpose1d,
            2: torch.nn.functional.conv_transpose2d,
            3: torch.nn.functional.conv_transpose3d}[d]
    np_dtype = {"float32": np.float32, "float64": np.float64}[dtype]
    # Logical NC... tensors on memory-order data: channels_last strides where the layout is.
    x, w, b = (torch.from_numpy(a) for a in pc.layer_inputs(layer, np_dtype))
    kw = dict(stride=layer["stride"], padding=layer["pad"], dilation=layer["dilate"],
              groups=layer["groups"])
    sums = lambda t: pc.checksum(t.detach().numpy(), layer)

    with torch.no_grad():
        y = conv(x, w, b, **kw)
        out = {"out_shape": pc.layout_shape(layer, y.shape)}
        out["check"] = {"y": sums(y)}
        out["fwd"] = pc.measure(lambda: conv(x, w, b, **kw), policy)
    if pc.channels_last(layer):
        fmt = torch.channels_last if d == 2 else torch.channels_last_3d
        out["note"] = "channels_last tensors in, %s out" % (
            "channels_last" if y.is_contiguous(memory_format=fmt) else "NC...")
    del y

    if backward:
        xg = x.clone().requires_grad_(True)  # clone keeps the memory format
        wg = w.clone().requires_grad_(True)
        bg = b.clone().requires_grad_(True)
        y = conv(xg, wg, bg, **kw)
        gy = torch.from_numpy(pc.out_gradient(layer, y.shape, np_dtype))
        grads = lambda: torch.autograd.grad(y, (xg, wg, bg), gy, retain_graph=True)
        gx, gw, gb = grads()
        out["check"].update(dx=sums(gx), dw=sums(gw), db=sums(gb))
        out["bwd"] = pc.measure(grads, policy)
    return out


def main():
    import torch  # noqa: E402  (imported here so a missing torch fails with a clear message)

    def set_threads(n):
        torch.set_num_threads(n)
        return torch.get_num_threads()

    pc.serve(sys.argv[1:], lambda: probe(torch),
             lambda layer, dtype, policy, backward, threads: run_layer(torch, layer, dtype,
                                                                       policy, backward),
             set_threads)


if __name__ == "__main__":
    main()
