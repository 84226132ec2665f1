#!/usr/bin/env python3
"""Export a trained checkpoint to Hugging Face layout, plus PyTorch reference outputs.

  /usr/bin/python3 tools/train/export.py [--ckpt tools/train/run/ckpt.pt] [--out models/default]

Writes
  OUT/config.json              model_type deepseek_v2, every field edgeseek reads
  OUT/model.safetensors        F32, HF tensor names (written here, no safetensors package)
  OUT/tokenizer.json, OUT/tokenizer_config.json
  OUT/reference/golden.json    held-out validation texts: ids (BOS first), logits file,
                               argmax and top-1 margin per position; greedy continuations
  OUT/reference/logits-N.f32   little-endian float32, row-major [positions, vocab]
  OUT/reference/expert_load.json  per-layer, per-expert routed-token counts on the
                               whole validation split

Reference logits are computed in float64 (weights are the exported F32 values
widened), with sparse per-expert dispatch as in HF's moe_infer.
"""
import argparse
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, HERE)
from bpe import Tokenizer  # noqa: E402
from model import CONFIG_DEFAULTS, DeepseekV2ForCausalLM, MoE  # noqa: E402

CONFIG_ORDER = [
    'model_type', 'architectures', 'vocab_size', 'hidden_size', 'intermediate_size', 'moe_intermediate_size',
    'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'q_lora_rank', 'kv_lora_rank',
    'qk_nope_head_dim', 'qk_rope_head_dim', 'v_head_dim', 'n_routed_experts', 'n_shared_experts',
    'num_experts_per_tok', 'first_k_dense_replace', 'moe_layer_freq', 'topk_method', 'n_group', 'topk_group',
    'norm_topk_prob', 'routed_scaling_factor', 'scoring_func', 'aux_loss_alpha', 'seq_aux', 'hidden_act',
    'max_position_embeddings', 'rope_theta', 'rope_scaling', 'rms_norm_eps', 'tie_word_embeddings',
    'attention_bias', 'attention_dropout', 'initializer_range', 'use_cache', 'torch_dtype', 'ep_size',
    'pretraining_tp', 'bos_token_id', 'eos_token_id',
]

PROMPTS = [
    'The Python interpreter',
    'To create a new list, use',
    'def main():\n',
]


def write_safetensors(path, tensors, metadata=None):
    header = {}
    off = 0
    blobs = []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().cpu().numpy().astype('<f4'))
        b = a.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        assert v['dtype'] == 'F32'
        s, e = v['data_offsets']
        out[k] = torch.from_numpy(np.frombuffer(data[s:e], dtype='<f4').copy().reshape(v['shape']))
    return out


def full_config(cfg):
    c = dict(CONFIG_DEFAULTS)
    c.update(cfg)
    c['num_key_value_heads'] = c.get('num_key_value_heads', c['num_attention_heads'])
    missing = [k for k in CONFIG_ORDER if k not in c]
    assert not missing, missing
    return {k: c[k] for k in CONFIG_ORDER}


@torch.no_grad()
def greedy(model, ids, n):
    ids = list(ids)
    out, margins = [], []
    for _ in range(n):
        logits = model(torch.tensor([ids]))[0, -1]
        top = torch.topk(logits, 2)
        nxt = int(top.indices[0])
        margins.append(round(float(top.values[0] - top.values[1]), 6))
        out.append(nxt)
        ids.append(nxt)
    return out, margins


def reference_texts(valid_path, tok):
    """Three held-out validation passages, cut to about 8, 64 and 200 tokens."""
    with open(valid_path, encoding='utf-8') as f:
        docs = [d.strip('\n') for d in f.read().split('\n\n\n') if d.strip()]
    picks = []
    # deterministic: paragraphs from three different validation documents
    for di, n in ((len(docs) // 5, 8), (len(docs) // 2, 64), (4 * len(docs) // 5, 200)):
        text = tok.decode(tok.encode(docs[di])[:n - 1])
        picks.append((text, tok.encode(text, bos=True)))  # ids of exactly this text
    return picks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'run', 'ckpt.pt'))
    ap.add_argument('--tok', default=os.path.join(HERE, 'tok'))
    ap.add_argument('--data', default=os.path.join(HERE, 'data'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'models', 'default'))
    ap.add_argument('--gen', type=int, default=32)
    ap.add_argument('--load-seq', type=int, default=512)
    args = ap.parse_args()
    torch.set_num_threads(1)

    ck = torch.load(args.ckpt, map_location='cpu')
    cfg = full_config(ck['config'])
    model = DeepseekV2ForCausalLM(cfg)
    model.load_state_dict(ck['model'])
    model.eval()
    os.makedirs(os.path.join(args.out, 'reference'), exist_ok=True)

    # weights
    sd = model.hf_state_dict()
    st_path = os.path.join(args.out, 'model.safetensors')
    write_safetensors(st_path, sd, {'format': 'pt'})
    with open(os.path.join(args.out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=1)
    for fn in ('tokenizer.json', 'tokenizer_config.json'):
        shutil.copy(os.path.join(args.tok, fn), os.path.join(args.out, fn))
    nparams = sum(v.numel() for v in sd.values())
    print('tensors', len(sd), 'params', nparams, 'bytes', os.path.getsize(st_path))

    # reload what was written (round trip) and compute references in float64
    ref = DeepseekV2ForCausalLM(cfg)
    ref.load_hf_state_dict(read_safetensors(st_path))
    ref = ref.double()
    ref.set_moe_impl('sparse')
    ref.eval()
    tok = Tokenizer(os.path.join(args.out, 'tokenizer.json'))
    vocab = cfg['vocab_size']
    golden = {
        'model': 'edgeseek default (tools/train)',
        'reference': 'tools/train/model.py (PyTorch transcription of DeepSeek-V2 modeling_deepseek.py), float64 '
                     'over the exported F32 weights, sparse expert dispatch',
        'logits_format': 'little-endian float32, row-major [positions, vocab]',
        'tolerance': 'f32 implementation: <= 1e-4 relative per position (||d||/||ref||)',
        'sequences': [],
        'greedy': [],
    }
    with torch.no_grad():
        for i, (text, ids) in enumerate(reference_texts(os.path.join(args.data, 'valid.txt'), tok)):
            logits = ref(torch.tensor([ids]))[0]
            fn = f'logits-{i}.f32'
            logits.numpy().astype('<f4').tofile(os.path.join(args.out, 'reference', fn))
            top = torch.topk(logits, 2, dim=-1)
            golden['sequences'].append({
                'text': text, 'ids': ids, 'logits_file': fn, 'positions': len(ids), 'vocab': vocab,
                'argmax': top.indices[:, 0].tolist(),
                'top1_margin': [round(float(m), 6) for m in (top.values[:, 0] - top.values[:, 1])],
            })
        for p in PROMPTS:
            ids = tok.encode(p, bos=True)
            cont, margins = greedy(ref, ids, args.gen)
            golden['greedy'].append({'prompt': p, 'prompt_ids': ids, 'max_tokens': args.gen, 'ids': cont,
                                     'text': tok.decode(cont), 'top1_margin': margins,
                                     'note': 'greedy argmax for exactly max_tokens steps, EOS not treated specially'})
            print(repr(p), '->', repr(tok.decode(cont)))

        # expert load on the whole validation split
        valid = np.load(os.path.join(args.data, 'valid.ids.npy'))
        seq = args.load_seq
        counts = [torch.zeros(m.E, dtype=torch.long) for m in ref.moe_layers()]
        ref.float()
        n_win = (len(valid) - 1) // seq
        nll, ntok = 0.0, 0
        for w in range(n_win):
            x = np.concatenate([[tok.bos], valid[w * seq: w * seq + seq]])
            x = torch.tensor(x[None], dtype=torch.long)
            logits = ref(x[:, :-1])
            nll += torch.nn.functional.cross_entropy(logits[0], x[0, 1:], reduction='sum').item()
            ntok += seq
            for c, m in zip(counts, ref.moe_layers()):
                c += torch.bincount(m.last_topk.reshape(-1), minlength=m.E)
    layers = []
    moe_idx = [i for i, l in enumerate(ref.layers) if isinstance(l.mlp, MoE)]
    worst = 0.0
    for li, c in zip(moe_idx, counts):
        tot = int(c.sum())
        fair = tot / len(c)
        ratio = [round(int(x) / fair, 4) for x in c]
        worst = max(worst, max(ratio))
        layers.append({'layer': li, 'tokens_routed': tot, 'counts': c.tolist(), 'share_of_fair': ratio,
                       'max_share_of_fair': max(ratio), 'min_share_of_fair': min(ratio)})
    load = {'split': 'valid', 'tokens': ntok, 'windows': n_win, 'window': seq, 'top_k': cfg['num_experts_per_tok'],
            'n_routed_experts': cfg['n_routed_experts'], 'layers': layers, 'max_share_of_fair': worst,
            'val_loss': round(nll / ntok, 5), 'val_ppl': round(math.exp(nll / ntok), 3)}
    golden['expert_load_file'] = 'expert_load.json'
    with open(os.path.join(args.out, 'reference', 'golden.json'), 'w', encoding='utf-8') as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
    with open(os.path.join(args.out, 'reference', 'expert_load.json'), 'w') as f:
        json.dump(load, f, indent=1)
    print('val loss (full split)', load['val_loss'], 'ppl', load['val_ppl'])
    for l in layers:
        print('layer', l['layer'], 'share of fair', l['share_of_fair'])
    print('max share of fair', worst)


if __name__ == '__main__':
    main()
