"""Peer timings for inst/bench/bench.R: ONNX Runtime's and OpenVINO's ConvTranspose, forward.

Run by bench.R as `PYTHON peers_onnx.py --engine=onnxruntime|openvino SPEC.json`
(`--engine=... --probe`: only the engine's version); the protocol, the inputs, the checksums
and the repetition policy are peer_common.py's, shared with peers.py.

Each layer becomes a one-node ONNX model (ConvTranspose with its strides, pads, dilations
and group; weight and bias as initializers, as a deployed model has them, so an engine may
prepare the weight once when it compiles the model). Timed: one inference on an input set
up beforehand.
- onnxruntime: CPUExecutionProvider, intra_op_num_threads = threads, inter_op 1,
  sequential execution; each run returns a fresh output array.
- openvino: core.compile_model on the ONNX model, CPU, INFERENCE_NUM_THREADS = threads,
  the LATENCY hint and f32 inference precision (not bf16); the infer request reuses its
  output buffer. A layer whose ConvTranspose the compiled model runs in another precision
  than the dtype (OpenVINO's CPU plugin converts float64 to float32) is reported as an
  error, not timed.
ONNX is channels-first only: a channels-last layer (NHWC, NDHWC) is timed on its NC...
equivalent (the input transposed before, the output back after the timing, so the
checksums still compare) and its result says so in a note.
"""

import os
import sys
import tempfile

import numpy as np

import peer_common as pc

ENGINES = ("onnxruntime", "openvino")


def onnx_model(onnx, layer, dtype, w, b, x_shape, y_shape):
    from onnx import TensorProto, helper, numpy_helper

    elem = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}[dtype]
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"],
                            kernel_shape=layer["kernel"], strides=layer["stride"],
                            pads=list(layer["pad"]) * 2, dilations=layer["dilate"],
                            group=layer["groups"])
    graph = helper.make_graph(
        [node], layer["name"], [helper.make_tensor_value_info("x", elem, x_shape)],
        [helper.make_tensor_value_info("y", elem, y_shape)],
        initializer=[numpy_helper.from_array(np.ascontiguousarray(w), "w"),
                     numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def out_shape(layer):
    """N, F, spatial out (no adj, no target shape in the layer table)."""
    sp = [s * (i - 1) + d * (k - 1) + 1 - 2 * p
          for i, k, s, p, d in zip(layer["spatial"], layer["kernel"], layer["stride"],
                                   layer["pad"], layer["dilate"])]
    return [layer["N"], layer["F"]] + sp


def onnxruntime_runner(model, threads, x):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    feed = {"x": x}
    return lambda: sess.run(None, feed)[0]


def openvino_runner(model, threads, x, dtype):
    import openvino as ov

    core = ov.Core()
    fd, path = tempfile.mkstemp(suffix=".onnx")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(model.SerializeToString())
        compiled = core.compile_model(core.read_model(path), "CPU", {
            "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32"})
    finally:
        os.unlink(path)
    want = {"float32": "f32", "float64": "f64"}[dtype]
    for op in compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        if info["layerType"].astype(str) == "Deconvolution":
            got = info["runtimePrecision"].astype(str)
            if got != want:
                raise TypeError("OpenVINO's CPU plugin runs this %s ConvTranspose in %s"
                                % (dtype, got))
    req = compiled.create_infer_request()
    req.set_input_tensor(ov.Tensor(x, shared_memory=True))

    def run():
        req.infer(share_outputs=True)
        return req.get_output_tensor().data
    return run


def run_layer(engine, layer, dtype, policy, threads):
    import onnx

    np_dtype = {"float32": np.float32, "float64": np.float64}[dtype]
    x, w, b = pc.layer_inputs(layer, np_dtype)
    x = np.ascontiguousarray(x)  # NC... (a copy for channels-last layers)
    y_shape = out_shape(layer)
    model = onnx_model(onnx, layer, dtype, w, b, list(x.shape), y_shape)
    if engine == "onnxruntime":
        fn = onnxruntime_runner(model, threads, x)
    else:
        fn = openvino_runner(model, threads, x, dtype)
    y = np.array(fn())  # a copy: OpenVINO's buffer is rewritten by the timed runs
    if list(y.shape) != y_shape:
        raise ValueError("output shape %s, expected %s" % (list(y.shape), y_shape))
    out = {"out_shape": pc.layout_shape(layer, y.shape), "check": {"y": pc.checksum(y, layer)},
           "fwd": pc.measure(fn, policy)}
    if pc.channels_last(layer):
        out["note"] = "timed on the %s equivalent (ONNX ConvTranspose is channels-first)" % (
            ["NCW", "NCHW", "NCDHW"][len(layer["kernel"]) - 1])
    return out


def probe(engine):
    import onnx

    mod = __import__(engine)
    return {"version": mod.__version__, "engine": engine, "onnx": onnx.__version__,
            "python": sys.executable}


def main():
    args = sys.argv[1:]
    engine = None
    if args and args[0].startswith("--engine="):
        engine = args.pop(0)[len("--engine="):]
    if engine not in ENGINES:
        sys.exit("peers_onnx.py: the first argument must be --engine=%s" % "|".join(ENGINES))
    # Forward only: `backward` is ignored; threads are set per session (run_layer).
    pc.serve(args, lambda: probe(engine),
             lambda layer, dtype, policy, backward, threads: run_layer(engine, layer, dtype,
                                                                       policy, threads))


if __name__ == "__main__":
    main()
