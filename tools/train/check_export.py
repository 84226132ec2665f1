#!/usr/bin/env python3
"""Cross-check an exported model against the independent float64 numpy transcription
of DeepSeek-V2 in tools/fixtures/dsv2_reference.py (not the PyTorch code that wrote it).

  /usr/bin/python3 tools/train/check_export.py [models/default]

For every sequence in reference/golden.json: relative error per position
(||ref - torch|| / ||ref||) of the stored logits, and identical greedy continuations.
Also checks that the tokenizer in the model directory reproduces the stored ids.
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'fixtures'))
sys.path.insert(0, HERE)
import dsv2_reference as ref  # noqa: E402
import safetensors_io  # noqa: E402
from bpe import Tokenizer  # noqa: E402


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'models', 'default')
    cfg = ref.load_config(d)
    w, dtypes = safetensors_io.read_model(d)
    w = ref.as_f64(w)
    with open(os.path.join(d, 'reference', 'golden.json'), encoding='utf-8') as f:
        golden = json.load(f)
    tok = Tokenizer(os.path.join(d, 'tokenizer.json'))
    ok = True
    for s in golden['sequences']:
        stored = np.fromfile(os.path.join(d, 'reference', s['logits_file']), dtype='<f4').reshape(s['positions'], s['vocab'])
        logits = ref.forward(cfg, w, s['ids'])
        rel = np.linalg.norm(logits - stored, axis=-1) / np.linalg.norm(logits, axis=-1)
        same_ids = tok.encode(s['text'], bos=True) == s['ids']
        print(f"{s['logits_file']}: {s['positions']} positions, max rel err {rel.max():.2e}, "
              f"argmax equal {bool((np.argmax(logits, -1) == np.array(s['argmax'])).all())}, tokenizer reproduces ids {same_ids}")
        ok &= bool(rel.max() < 1e-5) and same_ids
    for g in golden['greedy']:
        out = ref.greedy(cfg, w, g['prompt_ids'], g['max_tokens'])
        eq = out == g['ids']
        print(f"greedy {g['prompt']!r}: numpy reference equal {eq}")
        ok &= eq and tok.encode(g['prompt'], bos=True) == g['prompt_ids']
    print('OK' if ok else 'FAILED')
    raise SystemExit(0 if ok else 1)


if __name__ == '__main__':
    main()
