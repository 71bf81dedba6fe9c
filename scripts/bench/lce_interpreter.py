#!/usr/bin/env python3
"""Times Larq Compute Engine's own interpreter for `bitweave bench model <file.tflite>`.

Started by host/bench/lce.ts as `PYTHON lce_interpreter.py MODEL THREADS KERNEL...`; not
needed by `make test`. KERNEL is LCE's binary-conv kernel: `default` (the interpreter's
default) or `indirect-bgemm` (use_indirect_bgemm=True); each gets its own interpreter. It speaks one JSON object per line: stdout carries only replies (anything a
library prints to stdout is moved to stderr), stdin carries requests, EOF ends it.

First line: {"ready": true, "lce": ..., "python": ..., "input": shape, "output": shape,
"unsupported": {kernel: why}} (kernels whose interpreter refused the model at load),
or {"unavailable": why} (this Python has no LCE: the bench skips it), or {"error": why}.
Requests, each answered by one line ({"error": why} on failure):
  {"op": "run", "kernel": K, "batch": B, "input": F, "output": G}
      read B images (float32 NHWC, raw little-endian) from F, run them, write the outputs
      to G the same way -> {"ok": true}, or {"unsupported": why} when LCE's interpreter
      raised (a kernel that refuses the model: the bench drops it with a note)
  {"op": "time", "kernel": K, "batch": B, "runs": N, "warmupMs": W}
      untimed calls for at least W ms, then N timed calls on the last input given to run
      for that kernel and batch size -> {"timesMs": [...]}

One call on a batch is B invocations of the batch-1 model: the converted model has batch 1
and LCE's interpreter cannot resize its input (its own predict() loops the same way).
"""

import json
import os
import platform
import sys
import time

# stdout is the protocol: keep a private handle to it and send fd 1 to stderr, so whatever
# TensorFlow or LCE print (C or Python) cannot corrupt a reply.
_reply = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr


# LCE's binary-conv kernels by the name the bench uses: its default and the indirect BGEMM
# (on x86 the default runs a generic path; which is faster depends on the machine)
KERNELS = {"default": {}, "indirect-bgemm": {"use_indirect_bgemm": True}}


def reply(obj):
    _reply.write(json.dumps(obj) + "\n")
    _reply.flush()


def main():
    if len(sys.argv) < 4 or any(k not in KERNELS for k in sys.argv[3:]):
        reply({"error": f"usage: lce_interpreter.py MODEL THREADS KERNEL... (kernels: {', '.join(KERNELS)})"})
        return 2
    model_path, threads, kernels = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    # LCE 0.16 imports TensorFlow with Keras 2 only
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from larq_compute_engine.tflite.python.interpreter import Interpreter
        import importlib.metadata
        import numpy as np
    except ImportError as e:
        reply({"unavailable": f"{sys.executable} cannot import larq_compute_engine ({type(e).__name__}: {e})"})
        return 0
    try:
        with open(model_path, "rb") as f:
            flatbuffer = f.read()
        interpreters, unsupported = {}, {}
        for k in kernels:
            try:
                interpreters[k] = Interpreter(flatbuffer, num_threads=threads, **KERNELS[k])
            except Exception as e:  # noqa: BLE001 (a kernel that refuses the model is dropped)
                unsupported[k] = f"{type(e).__name__}: {e}"
        if not interpreters:
            raise RuntimeError("; ".join(f"{k}: {why}" for k, why in unsupported.items()))
        first = next(iter(interpreters.values()))
        [in_shape] = first.input_shapes
        [out_shape] = first.output_shapes
        if first.input_types != [np.float32] or in_shape[0] != 1:
            raise ValueError(f"input {first.input_types} {in_shape}: expected one float32 input with batch 1")
    except Exception as e:  # noqa: BLE001 (any load failure is reported, not raised)
        reply({"error": f"LCE's interpreter cannot load {model_path}: {type(e).__name__}: {e}"})
        return 1
    reply({
        "ready": True,
        "lce": importlib.metadata.version("larq-compute-engine"),
        "python": platform.python_version(),
        "input": list(in_shape),
        "output": list(out_shape),
        "unsupported": unsupported,
    })
    per_in, per_out = int(np.prod(in_shape)), int(np.prod(out_shape))
    inputs = {}

    def call(kernel, images):
        predict = interpreters[kernel].interpreter.predict
        return [predict([x])[0] for x in images]

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            batch, kernel = int(req["batch"]), req["kernel"]
            if kernel not in interpreters:
                raise ValueError(f"kernel {kernel!r} was not loaded")
            if req["op"] == "run":
                x = np.fromfile(req["input"], dtype="<f4")
                if x.size != batch * per_in:
                    raise ValueError(f"{req['input']}: {x.size} floats, expected {batch} x {per_in}")
                images = [x[i * per_in:(i + 1) * per_in].reshape(in_shape) for i in range(batch)]
                try:
                    outputs = call(kernel, images)
                except Exception as e:  # noqa: BLE001 (LCE refused: the bench drops this kernel)
                    reply({"unsupported": f"{type(e).__name__}: {e}"})
                    continue
                inputs[kernel, batch] = images
                y = np.concatenate([o.reshape(-1) for o in outputs]).astype("<f4")
                if y.size != batch * per_out:
                    raise ValueError(f"output has {y.size} floats, expected {batch} x {per_out}")
                y.tofile(req["output"])
                reply({"ok": True})
            elif req["op"] == "time":
                images = inputs[kernel, batch]
                t0 = time.perf_counter()
                call(kernel, images)
                while (time.perf_counter() - t0) * 1000 < float(req["warmupMs"]):
                    call(kernel, images)
                times = []
                for _ in range(int(req["runs"])):
                    s = time.perf_counter()
                    call(kernel, images)
                    times.append((time.perf_counter() - s) * 1000)
                reply({"timesMs": times})
            else:
                raise ValueError(f"unknown op {req['op']!r}")
        except Exception as e:  # noqa: BLE001 (the bench turns it into one error line)
            reply({"error": f"{type(e).__name__}: {e}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
