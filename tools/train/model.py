"""A PyTorch transcription of DeepSeek-V2 (`DeepseekV2ForCausalLM`, modeling_deepseek.py).

Same math and config fields as Hugging Face's implementation:
  * RMSNorm in float32, weight applied after casting back.
  * MLA: q = q_b(q_a_layernorm(q_a(x))) (or q_proj), split [nope | rope] per head;
    kv_a_proj_with_mqa(x) -> [c (kv_lora) | k_pe (rope, shared by heads)];
    kv_b_proj(kv_a_layernorm(c)) -> per head [k_nope | v];
    RoPE as HF's apply_rotary_pos_emb: view the last dim as (d/2, 2), transpose,
    then rotate_half with cos/sin = cat(freqs, freqs);
    softmax_scale = (nope + rope)^-0.5; causal softmax in float32; o_proj.
  * DeepSeekMoE: router logits in float32, softmax scores, greedy top-k,
    norm_topk_prob false -> weights * routed_scaling_factor; shared experts are
    one SwiGLU MLP of width moe_intermediate_size * n_shared_experts.
    Layer l is MoE iff l >= first_k_dense_replace and l % moe_layer_freq == 0.
  * Auxiliary expert-level balance loss (DeepSeek-V2 paper, eq. 12-14; HF
    MoEGate with seq_aux): per sequence f_i = N/(K T) * #tokens routed to i,
    P_i = mean_t s_{i,t}; L = alpha * sum_i f_i P_i, averaged over sequences.

Routed experts are stored stacked ([E, I, H] / [E, H, I]) so training can run
them as one masked dense matmul ("dense" MoE: every expert runs on every token,
unselected experts get weight exactly 0 — the same function and the same
gradients as sparse dispatch, faster on a CPU for tiny experts). `moe_impl =
"sparse"` dispatches tokens per expert like HF's moe_infer. `hf_state_dict()`
gives HF tensor names (`model.layers.N.mlp.experts.E.gate_proj.weight`, ...).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG_DEFAULTS = {
    'model_type': 'deepseek_v2',
    'architectures': ['DeepseekV2ForCausalLM'],
    'hidden_act': 'silu',
    'rms_norm_eps': 1e-6,
    'tie_word_embeddings': False,
    'rope_theta': 10000.0,
    'rope_scaling': None,
    'scoring_func': 'softmax',
    'topk_method': 'greedy',
    'n_group': 1,
    'topk_group': 1,
    'norm_topk_prob': False,
    'routed_scaling_factor': 1.0,
    'moe_layer_freq': 1,
    'aux_loss_alpha': 0.01,
    'seq_aux': True,
    'attention_bias': False,
    'attention_dropout': 0.0,
    'initializer_range': 0.02,
    'use_cache': True,
    'torch_dtype': 'float32',
    'ep_size': 1,
    'pretraining_tp': 1,
}


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        dt = x.dtype
        x = x.to(torch.float32)
        var = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(var + self.eps)
        return self.weight * x.to(dt)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    """HF DeepseekV2 apply_rotary_pos_emb; q [b,h,s,d], k [b,1,s,d], cos/sin [s,d]."""
    cos = cos[None, None]
    sin = sin[None, None]
    b, h, s, d = q.shape
    q = q.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    b, h, s, d = k.shape
    k = k.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class Rotary(nn.Module):
    def __init__(self, dim, base, max_pos):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
        t = torch.arange(max_pos, dtype=torch.float32)
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer('cos', emb.cos(), persistent=False)
        self.register_buffer('sin', emb.sin(), persistent=False)

    def forward(self, seq_len, dtype):
        return self.cos[:seq_len].to(dtype), self.sin[:seq_len].to(dtype)


class MLA(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c['hidden_size']
        self.nh = c['num_attention_heads']
        self.nope = c['qk_nope_head_dim']
        self.rope = c['qk_rope_head_dim']
        self.vd = c['v_head_dim']
        self.kv_lora = c['kv_lora_rank']
        self.qd = self.nope + self.rope
        self.q_lora = c['q_lora_rank']
        if self.q_lora is None:
            self.q_proj = nn.Linear(H, self.nh * self.qd, bias=False)
        else:
            self.q_a_proj = nn.Linear(H, self.q_lora, bias=False)
            self.q_a_layernorm = RMSNorm(self.q_lora, c['rms_norm_eps'])
            self.q_b_proj = nn.Linear(self.q_lora, self.nh * self.qd, bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(H, self.kv_lora + self.rope, bias=False)
        self.kv_a_layernorm = RMSNorm(self.kv_lora, c['rms_norm_eps'])
        self.kv_b_proj = nn.Linear(self.kv_lora, self.nh * (self.nope + self.vd), bias=False)
        self.o_proj = nn.Linear(self.nh * self.vd, H, bias=False)
        assert c['rope_scaling'] is None, 'only rope_scaling null is implemented here'
        self.rotary = Rotary(self.rope, c['rope_theta'], c['max_position_embeddings'])
        self.softmax_scale = self.qd ** -0.5

    def forward(self, x):
        b, s, _ = x.shape
        if self.q_lora is None:
            q = self.q_proj(x)
        else:
            q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
        q = q.view(b, s, self.nh, self.qd).transpose(1, 2)
        q_nope, q_pe = torch.split(q, [self.nope, self.rope], dim=-1)
        ckv = self.kv_a_proj_with_mqa(x)
        ckv, k_pe = torch.split(ckv, [self.kv_lora, self.rope], dim=-1)
        k_pe = k_pe.view(b, s, 1, self.rope).transpose(1, 2)
        kv = self.kv_b_proj(self.kv_a_layernorm(ckv)).view(b, s, self.nh, self.nope + self.vd).transpose(1, 2)
        k_nope, v = torch.split(kv, [self.nope, self.vd], dim=-1)
        cos, sin = self.rotary(s, x.dtype)
        q_pe, k_pe = apply_rotary_pos_emb(q_pe, k_pe, cos, sin)
        qs = torch.cat([q_nope, q_pe], dim=-1)
        ks = torch.cat([k_nope, k_pe.expand(b, self.nh, s, self.rope)], dim=-1)
        att = torch.matmul(qs, ks.transpose(2, 3)) * self.softmax_scale
        mask = torch.full((s, s), float('-inf'), dtype=att.dtype, device=x.device).triu(1)
        att = att + mask
        att = F.softmax(att, dim=-1, dtype=torch.float32).to(qs.dtype)
        o = torch.matmul(att, v).transpose(1, 2).reshape(b, s, self.nh * self.vd)
        return self.o_proj(o)


class MLP(nn.Module):
    def __init__(self, H, I):
        super().__init__()
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c['hidden_size']
        I = c['moe_intermediate_size']
        E = c['n_routed_experts']
        self.E, self.I, self.k = E, I, c['num_experts_per_tok']
        assert c['topk_method'] == 'greedy' and c['scoring_func'] == 'softmax'
        self.norm_topk_prob = c['norm_topk_prob']
        self.scale = c['routed_scaling_factor']
        self.alpha = c['aux_loss_alpha']
        self.gate_weight = nn.Parameter(torch.empty(E, H))                 # mlp.gate.weight
        self.w_gate = nn.Parameter(torch.empty(E, I, H))                   # experts.E.gate_proj.weight
        self.w_up = nn.Parameter(torch.empty(E, I, H))                     # experts.E.up_proj.weight
        self.w_down = nn.Parameter(torch.empty(E, H, I))                   # experts.E.down_proj.weight
        self.shared_experts = MLP(H, I * c['n_shared_experts']) if c['n_shared_experts'] else None
        self.impl = 'dense'
        self.last_aux = None
        self.last_topk = None

    def route(self, x2):
        logits = F.linear(x2.float(), self.gate_weight.float())
        scores = logits.softmax(dim=-1)
        w, idx = torch.topk(scores, k=self.k, dim=-1, sorted=False)
        if self.k > 1 and self.norm_topk_prob:
            w = w / (w.sum(dim=-1, keepdim=True) + 1e-20)
        else:
            w = w * self.scale
        return scores, w, idx

    def forward(self, x):
        b, s, H = x.shape
        x2 = x.reshape(-1, H)
        scores, w, idx = self.route(x2)
        self.last_topk = idx.detach()
        if self.training and self.alpha > 0:
            # seq-level expert balance loss (HF MoEGate, seq_aux=True)
            ce = torch.zeros(b, self.E, device=x.device)
            ce.scatter_add_(1, idx.view(b, -1), torch.ones(b, s * self.k, device=x.device))
            ce = ce / (s * self.k / self.E)
            self.last_aux = (ce * scores.view(b, s, self.E).mean(dim=1)).sum(dim=1).mean() * self.alpha
        else:
            self.last_aux = None
        if self.impl == 'dense':
            dense_w = torch.zeros(x2.shape[0], self.E, dtype=w.dtype, device=x.device).scatter(1, idx, w)
            g = torch.einsum('th,eih->tei', x2, self.w_gate)
            u = torch.einsum('th,eih->tei', x2, self.w_up)
            hmid = F.silu(g) * u * dense_w.to(x2.dtype).unsqueeze(-1)
            y = torch.einsum('tei,ehi->th', hmid, self.w_down)
        else:
            y = torch.zeros_like(x2)
            for e in range(self.E):
                tok, slot = (idx == e).nonzero(as_tuple=True)
                if tok.numel() == 0:
                    continue
                xe = x2[tok]
                he = F.linear(F.silu(F.linear(xe, self.w_gate[e])) * F.linear(xe, self.w_up[e]), self.w_down[e])
                y.index_add_(0, tok, he * w[tok, slot].unsqueeze(-1).to(he.dtype))
        y = y.view(b, s, H)
        if self.shared_experts is not None:
            y = y + self.shared_experts(x)
        return y


class Layer(nn.Module):
    def __init__(self, c, idx):
        super().__init__()
        self.self_attn = MLA(c)
        is_moe = (c['n_routed_experts'] is not None and idx >= c['first_k_dense_replace']
                  and idx % c['moe_layer_freq'] == 0)
        self.mlp = MoE(c) if is_moe else MLP(c['hidden_size'], c['intermediate_size'])
        self.input_layernorm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])
        self.post_attention_layernorm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])

    def forward(self, x):
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class DeepseekV2ForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = dict(CONFIG_DEFAULTS)
        c.update(config)
        self.config = c
        self.embed_tokens = nn.Embedding(c['vocab_size'], c['hidden_size'])
        self.layers = nn.ModuleList([Layer(c, i) for i in range(c['num_hidden_layers'])])
        self.norm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])
        self.lm_head = nn.Linear(c['hidden_size'], c['vocab_size'], bias=False)
        self.reset_parameters()

    def reset_parameters(self):
        std = self.config['initializer_range']
        L = self.config['num_hidden_layers']
        for name, p in self.named_parameters():
            if p.dim() == 1:
                nn.init.ones_(p)
            elif name.endswith('o_proj.weight') or name.endswith('down_proj.weight') or name.endswith('w_down'):
                nn.init.normal_(p, std=std / math.sqrt(2 * L))
            else:
                nn.init.normal_(p, std=std)

    def moe_layers(self):
        return [l.mlp for l in self.layers if isinstance(l.mlp, MoE)]

    def set_moe_impl(self, impl):
        for m in self.moe_layers():
            m.impl = impl

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm(x))

    def aux_loss(self):
        losses = [m.last_aux for m in self.moe_layers() if m.last_aux is not None]
        return sum(losses) if losses else None

    # ---- Hugging Face tensor names -------------------------------------------------
    def hf_state_dict(self):
        out = {'model.embed_tokens.weight': self.embed_tokens.weight}
        for i, layer in enumerate(self.layers):
            p = f'model.layers.{i}.'
            for n, t in layer.self_attn.named_parameters():
                out[p + 'self_attn.' + n] = t
            out[p + 'input_layernorm.weight'] = layer.input_layernorm.weight
            out[p + 'post_attention_layernorm.weight'] = layer.post_attention_layernorm.weight
            m = layer.mlp
            if isinstance(m, MoE):
                out[p + 'mlp.gate.weight'] = m.gate_weight
                for e in range(m.E):
                    out[p + f'mlp.experts.{e}.gate_proj.weight'] = m.w_gate[e]
                    out[p + f'mlp.experts.{e}.up_proj.weight'] = m.w_up[e]
                    out[p + f'mlp.experts.{e}.down_proj.weight'] = m.w_down[e]
                if m.shared_experts is not None:
                    for n, t in m.shared_experts.named_parameters():
                        out[p + 'mlp.shared_experts.' + n] = t
            else:
                for n, t in m.named_parameters():
                    out[p + 'mlp.' + n] = t
        out['model.norm.weight'] = self.norm.weight
        out['lm_head.weight'] = self.lm_head.weight
        return {k: v.detach() for k, v in out.items()}

    def load_hf_state_dict(self, sd):
        with torch.no_grad():
            mine = self.hf_state_dict()
            missing = set(mine) - set(sd)
            extra = set(sd) - set(mine)
            if missing or extra:
                raise KeyError(f'missing {sorted(missing)[:5]} extra {sorted(extra)[:5]}')
            for k, dst in mine.items():
                src = sd[k]
                if tuple(src.shape) != tuple(dst.shape):
                    raise ValueError(f'{k}: shape {tuple(src.shape)} != {tuple(dst.shape)}')
                dst.copy_(src)  # views into the parameters (stacked experts included)
