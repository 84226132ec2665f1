#!/usr/bin/env python3
"""Train edgeseek's default model (DeepSeek-V2 architecture) on the corpus.

  nice -n 5 /usr/bin/python3 tools/train/train.py --minutes 55

AdamW (betas 0.9/0.95, weight decay 0.1 on matrices), linear warmup then cosine
decay to 10% of the peak LR, gradient clipping 1.0, the DeepSeek-V2
expert-level balance loss (alpha = aux_loss_alpha, summed over MoE layers),
fixed seed, one CPU thread. Every sample is BOS followed by a window of the
token stream (documents are joined as `doc EOS BOS doc ...`), so position 0 is
always BOS, as at inference. The run length is set by --steps or by a
wall-clock budget (--minutes): the cosine schedule is laid out over the
step count that the measured speed allows, fixed after the first 20 steps.

Logs train loss / aux loss / val loss to OUT/log.txt and saves OUT/ckpt.pt
(model + optimizer + config + step) every eval and at the end.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bpe import Tokenizer  # noqa: E402
from model import DeepseekV2ForCausalLM  # noqa: E402

MODEL_CONFIG = {
    'hidden_size': 256,
    'num_hidden_layers': 4,
    'num_attention_heads': 4,
    'num_key_value_heads': 4,
    'q_lora_rank': 128,
    'kv_lora_rank': 64,
    'qk_nope_head_dim': 32,
    'qk_rope_head_dim': 16,
    'v_head_dim': 32,
    'intermediate_size': 512,
    'moe_intermediate_size': 32,
    'n_routed_experts': 8,
    'n_shared_experts': 1,
    'num_experts_per_tok': 2,
    'first_k_dense_replace': 1,
    'moe_layer_freq': 1,
    'max_position_embeddings': 512,
    'aux_loss_alpha': 0.01,
}


def load_tokens(data_dir, tok_path, cache_dir):
    tok = Tokenizer(tok_path)
    out = {}
    for split in ('train', 'valid'):
        cache = os.path.join(cache_dir, f'{split}.ids.npy')
        if os.path.exists(cache) and os.path.getmtime(cache) > os.path.getmtime(tok_path):
            out[split] = np.load(cache)
            continue
        with open(os.path.join(data_dir, f'{split}.txt'), encoding='utf-8') as f:
            docs = f.read().split('\n\n\n')
        ids = []
        for d in docs:
            d = d.strip('\n')
            if not d:
                continue
            ids.append(tok.bos)
            ids.extend(tok.encode(d))
            ids.append(tok.eos)
        arr = np.array(ids, dtype=np.int32)
        np.save(cache, arr)
        out[split] = arr
    return tok, out


def val_windows(arr, seq, bos, limit=None):
    """Non-overlapping windows of the validation stream, each prefixed by BOS."""
    n = len(arr) // seq
    if limit:
        n = min(n, limit)
    xs, ys = [], []
    for i in range(n):
        w = arr[i * seq: i * seq + seq]
        seqx = np.concatenate([[bos], w])  # inputs BOS + w[:-1], targets w
        xs.append(seqx[:-1])
        ys.append(seqx[1:])
    return torch.tensor(np.stack(xs), dtype=torch.long), torch.tensor(np.stack(ys), dtype=torch.long)


@torch.no_grad()
def evaluate(model, vx, vy, bsz=16):
    model.eval()
    tot, n = 0.0, 0
    for i in range(0, len(vx), bsz):
        logits = model(vx[i:i + bsz])
        y = vy[i:i + bsz]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction='sum')
        tot += loss.item()
        n += y.numel()
    model.train()
    return tot / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, 'data'))
    ap.add_argument('--tok', default=os.path.join(HERE, 'tok', 'tokenizer.json'))
    ap.add_argument('--out', default=os.path.join(HERE, 'run'))
    ap.add_argument('--seq', type=int, default=256)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--min-lr-frac', type=float, default=0.1)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--wd', type=float, default=0.1)
    ap.add_argument('--steps', type=int, default=0, help='fixed step count (0: from --minutes)')
    ap.add_argument('--minutes', type=float, default=55.0)
    ap.add_argument('--eval-every', type=int, default=200)
    ap.add_argument('--eval-windows', type=int, default=48)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--moe-impl', default='sparse', choices=['sparse', 'dense'])
    ap.add_argument('--bench', type=int, default=0, help='time N steps and exit')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    tok, data = load_tokens(args.data, args.tok, os.path.join(HERE, 'data'))
    vocab = max(tok.inv) + 1
    cfg = dict(MODEL_CONFIG, vocab_size=vocab, bos_token_id=tok.bos, eos_token_id=tok.eos)
    model = DeepseekV2ForCausalLM(cfg)
    model.set_moe_impl(args.moe_impl)
    model.train()
    nparams = sum(p.numel() for p in model.parameters())
    train, valid = data['train'], data['valid']
    log = open(os.path.join(args.out, 'log.txt'), 'a')

    def say(*a):
        s = ' '.join(str(x) for x in a)
        print(s, flush=True)
        log.write(s + '\n')
        log.flush()

    say(f'# params {nparams} train tokens {len(train)} valid tokens {len(valid)} vocab {vocab}')
    say('# args', json.dumps(vars(args)))
    vx, vy = val_windows(valid, args.seq, tok.bos, args.eval_windows)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and 'gate_weight' not in n]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or 'gate_weight' in n]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': args.wd},
                             {'params': no_decay, 'weight_decay': 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    total = args.steps or 10 ** 9

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        p = min(1.0, (step - args.warmup) / max(1, total - args.warmup))
        return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))

    t0 = time.time()
    step = 0
    ema = None
    while step < total:
        if not args.steps and time.time() - t0 > args.minutes * 60 + 480:
            say('# wall-clock safety stop')
            break
        if not args.steps and step == 20:
            per = (time.time() - t0) / 20
            # leave room for evals (~ (eval windows / batch) forward passes each)
            eval_cost = per * 0.4 * (args.eval_windows / args.batch)
            budget = args.minutes * 60 - (time.time() - t0)
            total = 20 + int(budget / (per + eval_cost / args.eval_every))
            say(f'# {per:.3f} s/step -> total steps {total}')
        for g in opt.param_groups:
            g['lr'] = lr_at(step)
        offs = rng.integers(0, len(train) - args.seq - 1, size=args.batch)
        w = np.stack([train[o:o + args.seq] for o in offs])
        w = np.concatenate([np.full((args.batch, 1), tok.bos, dtype=np.int32), w], axis=1)
        w = torch.tensor(w, dtype=torch.long)
        x, y = w[:, :-1], w[:, 1:]
        logits = model(x)
        ce = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        aux = model.aux_loss()
        loss = ce + aux if aux is not None else ce
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema = ce.item() if ema is None else 0.98 * ema + 0.02 * ce.item()
        if args.bench and step == args.bench:
            say(f'# bench {(time.time() - t0) / step:.3f} s/step, {args.batch * args.seq * step / (time.time() - t0):.0f} tok/s')
            return
        if step % 20 == 0:
            say(f'step {step} lr {lr_at(step):.2e} ce {ce.item():.4f} ema {ema:.4f} aux {aux.item() if aux is not None else 0:.5f} t {time.time() - t0:.0f}s')
        if step % args.eval_every == 0 or step == total:
            vl = evaluate(model, vx, vy)
            say(f'eval step {step} val_loss {vl:.4f} ppl {math.exp(vl):.2f} t {time.time() - t0:.0f}s')
            torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'config': cfg, 'step': step,
                        'args': vars(args), 'val_loss': vl, 'train_ema': ema, 'elapsed_s': time.time() - t0},
                       os.path.join(args.out, 'ckpt.pt'))
    say(f'# done {step} steps in {time.time() - t0:.0f}s')


if __name__ == '__main__':
    main()
