"""Miniature Llama (transformers LlamaForCausalLM layout) in plain torch.

Attention is written exactly like transformers' eager Llama attention
(q@k^T/sqrt(d) + mask, softmax(dim=-1, dtype=float32), .to(dtype), @ v,
repeat_kv for grouped-query attention) so that an ONNX export has one
explicit Softmax per layer whose output feeds the MatMul with V.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


DEFAULT_CONFIG = dict(
    vocab_size=8192, hidden_size=256, intermediate_size=688, num_hidden_layers=4,
    num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=2048,
    rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
    bos_token_id=8190, eos_token_id=8191,
)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.variance_epsilon = eps

    def forward(self, x):
        dt = x.dtype
        x = x.to(torch.float32)
        var = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(var + self.variance_epsilon)
        return self.weight * x.to(dt)


class RotaryEmbedding(nn.Module):
    def __init__(self, dim, base):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x, position_ids):
        inv = self.inv_freq[None, :, None].expand(position_ids.shape[0], -1, 1)
        pos = position_ids[:, None, :].float()
        freqs = (inv.float() @ pos).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    cos = cos.unsqueeze(1)
    sin = sin.unsqueeze(1)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


def repeat_kv(h, n_rep):
    b, kvh, s, d = h.shape
    if n_rep == 1:
        return h
    h = h[:, :, None, :, :].expand(b, kvh, n_rep, s, d)
    return h.reshape(b, kvh * n_rep, s, d)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.hidden_size = c["hidden_size"]
        self.num_heads = c["num_attention_heads"]
        self.head_dim = self.hidden_size // self.num_heads
        self.num_key_value_heads = c["num_key_value_heads"]
        self.num_key_value_groups = self.num_heads // self.num_key_value_heads
        self.q_proj = nn.Linear(self.hidden_size, self.num_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(self.hidden_size, self.num_key_value_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(self.hidden_size, self.num_key_value_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, self.hidden_size, bias=False)

    def forward(self, x, cos, sin, mask, want_attn=False, fast=False):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.num_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.num_key_value_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.num_key_value_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        k = repeat_kv(k, self.num_key_value_groups)
        v = repeat_kv(v, self.num_key_value_groups)
        if fast:
            # training path (same maths, fewer full-size passes): bf16 scores and softmax
            w = torch.matmul((q * (1.0 / math.sqrt(self.head_dim))).to(torch.bfloat16),
                             k.to(torch.bfloat16).transpose(2, 3))
            w = F.softmax(w + mask, dim=-1)
            o = torch.matmul(w, v.to(torch.bfloat16))
            o = o.transpose(1, 2).contiguous().reshape(b, s, self.hidden_size)
            return self.o_proj(o), None
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        w = w + mask.to(w.dtype)
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        o = torch.matmul(w, v)
        o = o.transpose(1, 2).contiguous().reshape(b, s, self.hidden_size)
        return self.o_proj(o), (w if want_attn else None)


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, i = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(h, i, bias=False)
        self.up_proj = nn.Linear(h, i, bias=False)
        self.down_proj = nn.Linear(i, h, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = LlamaAttention(c)
        self.mlp = LlamaMLP(c)
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, x, cos, sin, mask, want_attn=False, fast=False):
        a, w = self.self_attn(self.input_layernorm(x), cos, sin, mask, want_attn, fast)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, w


class LlamaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.rotary_emb = RotaryEmbedding(c["hidden_size"] // c["num_attention_heads"], c["rope_theta"])

    def forward(self, input_ids, attention_mask=None, position_ids=None, want_attn=False, fast=False):
        b, s = input_ids.shape
        x = self.embed_tokens(input_ids)
        if position_ids is None:
            position_ids = torch.arange(s, device=input_ids.device)[None, :].expand(b, s)
        idx = torch.arange(s, device=input_ids.device)
        masked = (idx[None, :] > idx[:, None])[None, None, :, :]          # causal (1,1,S,S)
        if attention_mask is not None:
            masked = masked | (attention_mask[:, None, None, :] == 0)       # padding (B,1,S,S)
        if fast:
            mask = torch.zeros(masked.shape, dtype=torch.bfloat16).masked_fill(masked, float("-inf"))
        else:
          minval = torch.tensor(torch.finfo(torch.float32).min, dtype=torch.float32)
          mask = torch.where(masked, minval, torch.tensor(0.0, dtype=torch.float32))
        cos, sin = self.rotary_emb(x, position_ids)
        attns = []
        for layer in self.layers:
            x, w = layer(x, cos, sin, mask, want_attn, fast)
            if want_attn:
                attns.append(w)
        return self.norm(x), attns


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = dict(c)
        self.model = LlamaModel(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        self.lm_head.weight = self.model.embed_tokens.weight  # tied
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, input_ids, attention_mask=None, position_ids=None, want_attn=False, fast=False):
        x, attns = self.model(input_ids, attention_mask, position_ids, want_attn, fast)
        logits = self.lm_head(x)
        return (logits, attns) if want_attn else logits


def num_params(m):
    return sum(p.numel() for p in set(m.parameters()))
