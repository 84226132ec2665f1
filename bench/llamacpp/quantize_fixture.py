"""Files made by llama.cpp's own quantizer, for the independent check (bench/llamacpp/crosscheck.ts).

    python3 bench/llamacpp/quantize_fixture.py [--model gguf-k-quants] [--out fixtures-large/llamacpp-quants]

node-llama-cpp's JavaScript API has no quantization call, but the llama.cpp library it ships
(bench/peers, `cd bench/peers && npm ci`) exports llama_model_quantize: this calls it through
ctypes (struct layout from the llama.h of that release, v0.4.0, in the package's
gitRelease.bundle). Source: the fixture model's F32 weights (tools/fixtures/fixture_specs.py,
same seed) written as an F32 GGUF; outputs: one file per llama.cpp preset (PRESETS below),
each (and the F32 source) with the float64 reference logits (tools/fixtures/dsv2_reference.py over the file's
weights dequantized by tools/fixtures/ggml_quants.py) for the fixture's sequences, and
manifest.json listing files, tensor types and sequences. Nothing here is committed.
"""
import ctypes
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "../.."))
sys.path.insert(0, os.path.join(REPO, "tools/fixtures"))
import dsv2_reference as ref  # noqa: E402
import gguf_reader  # noqa: E402
import gguf_writer  # noqa: E402
import make_models  # noqa: E402
from fixture_specs import BASE, SPECS  # noqa: E402

LIB = os.path.join(REPO, "bench/peers/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.v0.4.0.so")
# llama_ftype values (llama.h)
PRESETS = {"Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12, "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16,
           "Q5_K_M": 17, "Q6_K": 18, "Q8_0": 7, "IQ4_NL": 25, "IQ4_XS": 30, "Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9}


class QuantizeParams(ctypes.Structure):
    """llama_model_quantize_params of llama.cpp v0.4.0 (include/llama.h)."""
    _fields_ = [("nthread", ctypes.c_int32), ("ftype", ctypes.c_int), ("output_tensor_type", ctypes.c_int),
                ("token_embedding_type", ctypes.c_int), ("allow_requantize", ctypes.c_bool),
                ("quantize_output_tensor", ctypes.c_bool), ("only_copy", ctypes.c_bool), ("pure", ctypes.c_bool),
                ("keep_split", ctypes.c_bool), ("dry_run", ctypes.c_bool), ("imatrix", ctypes.c_void_p),
                ("kv_overrides", ctypes.c_void_p), ("tt_overrides", ctypes.c_void_p), ("prune_layers", ctypes.c_void_p),
                ("max_buf_size", ctypes.c_size_t)]


def llama_quantize(lib, src, dst, ftype):
    params = lib.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = 1
    rc = lib.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize({dst}, ftype {ftype}) returned {rc}")


def main(argv):
    name = argv[argv.index("--model") + 1] if "--model" in argv else "gguf-k-quants"
    out = argv[argv.index("--out") + 1] if "--out" in argv else os.path.join(REPO, "fixtures-large/llamacpp-quants")
    if not os.path.exists(LIB):
        sys.exit(f"{LIB} not found: run `cd bench/peers && npm ci` first")
    os.makedirs(out, exist_ok=True)
    lib = ctypes.CDLL(LIB)
    lib.llama_model_quantize_default_params.restype = QuantizeParams
    lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(QuantizeParams)]
    lib.llama_model_quantize.restype = ctypes.c_uint32

    spec = next(s for s in SPECS if s["name"] == name)
    cfg = ref.normalize_config({**BASE, **spec["config"]})
    master = make_models.random_weights(cfg, np.random.default_rng(spec["seed"]), spec.get("embed_std"))
    seqs = make_models.sequences(spec["seed"], spec["lengths"])
    src = os.path.join(out, f"{name}-f32.gguf")
    gguf_writer.write_model(src, cfg, master, "F32", name=f"edgeseek-fixture-{name}", tokenizer_dir=make_models.TOKENIZER_SRC)
    files = []
    # The F32 source itself first: the baseline of llama.cpp's own differences (no weight decoding involved).
    for preset, ftype in [("F32", None)] + list(PRESETS.items()):
        fname = f"{name}-{preset.lower()}.gguf"
        path = os.path.join(out, fname)
        if ftype is not None:
            llama_quantize(lib, src, path, ftype)
        g = gguf_reader.read(path)
        counts = {}
        for t in g.tensors:
            label = gguf_reader.GGML_TYPES[t["type"]][0]
            counts[label] = counts.get(label, 0) + 1
        w = ref.as_f64(gguf_reader.hf_weights(g, cfg))
        logits_files = []
        for i, ids in enumerate(seqs):
            lf = f"{name}-{preset.lower()}-logits-{i}.f32"
            ref.forward(cfg, w, ids).astype("<f4").tofile(os.path.join(out, lf))
            logits_files.append(lf)
        files.append({"preset": preset, "file": fname, "types": counts, "logits": logits_files})
        print(f"{preset:7s} {os.path.getsize(path) / 1e3:8.1f} kB  {counts}", flush=True)
    with open(os.path.join(out, f"{name}-manifest.json"), "w") as f:
        json.dump({"model": name, "source": os.path.basename(src), "vocab": cfg["vocab_size"],
                   "sequences": seqs, "files": files}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv)
