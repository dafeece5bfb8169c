#!/usr/bin/env python3
"""Export a checkpoint to models/pa-mini-llama in the transformers/optimum layout.

usage: export.py CKPT TOKENIZER_DIR OUT_DIR [REF_JSON]
"""
import json, os, shutil, sys
import numpy as np
import torch
from model import LlamaForCausalLM

ckpt, tokdir, out = sys.argv[1], sys.argv[2], sys.argv[3]
ref = sys.argv[4] if len(sys.argv) > 4 else None
torch.manual_seed(0)
st = torch.load(ckpt, map_location="cpu")
cfg = st["config"]
model = LlamaForCausalLM(cfg)
model.load_state_dict(st["model"])
model.eval()
os.makedirs(os.path.join(out, "onnx"), exist_ok=True)


class Wrapper(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, position_ids):
        return self.m(input_ids, attention_mask=attention_mask, position_ids=position_ids)


w = model  # exported directly so node names match optimum's (/model/layers.N/self_attn/Softmax)
ids = torch.randint(0, cfg["vocab_size"] - 2, (2, 12), dtype=torch.int64)
ids[:, 0] = cfg["bos_token_id"]
am = torch.ones_like(ids)
am[1, 9:] = 0  # right padding on the second row
pos = torch.arange(12, dtype=torch.int64)[None].expand(2, 12).contiguous()
onnx_path = os.path.join(out, "onnx", "model.onnx")
with torch.no_grad():
    torch.onnx.export(
        w, (ids, am, pos), onnx_path,
        input_names=["input_ids", "attention_mask", "position_ids"], output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                      "attention_mask": {0: "batch_size", 1: "sequence_length"},
                      "position_ids": {0: "batch_size", 1: "sequence_length"},
                      "logits": {0: "batch_size", 1: "sequence_length"}},
        opset_version=14, do_constant_folding=True)

hf_cfg = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "vocab_size": cfg["vocab_size"], "hidden_size": cfg["hidden_size"],
    "intermediate_size": cfg["intermediate_size"], "num_hidden_layers": cfg["num_hidden_layers"],
    "num_attention_heads": cfg["num_attention_heads"], "num_key_value_heads": cfg["num_key_value_heads"],
    "head_dim": cfg["hidden_size"] // cfg["num_attention_heads"],
    "max_position_embeddings": cfg["max_position_embeddings"], "rms_norm_eps": cfg["rms_norm_eps"],
    "rope_theta": cfg["rope_theta"], "rope_scaling": None, "hidden_act": "silu",
    "attention_bias": False, "attention_dropout": 0.0, "mlp_bias": False, "pretraining_tp": 1,
    "initializer_range": 0.02, "use_cache": False, "tie_word_embeddings": True,
    "bos_token_id": cfg["bos_token_id"], "eos_token_id": cfg["eos_token_id"],
    "torch_dtype": "float32", "transformers_version": "4.46.0",
}
json.dump(hf_cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
json.dump({"bos_token_id": cfg["bos_token_id"], "eos_token_id": cfg["eos_token_id"],
           "transformers_version": "4.46.0"}, open(os.path.join(out, "generation_config.json"), "w"), indent=2)
for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
    shutil.copy(os.path.join(tokdir, f), os.path.join(out, f))
print("exported", onnx_path, os.path.getsize(onnx_path))

if ref:
    # reference logits for a cross-check with onnxruntime-node
    g = torch.Generator().manual_seed(7)
    rid = torch.randint(0, cfg["vocab_size"] - 2, (1, 40), generator=g)
    rid[0, 0] = cfg["bos_token_id"]
    ram = torch.ones_like(rid)
    rpos = torch.arange(40)[None]
    with torch.no_grad():
        lg, attn = model(rid, ram, rpos, want_attn=True)
    json.dump({"input_ids": rid[0].tolist(), "logits_last": lg[0, -1].tolist(),
               "logits_5": lg[0, 5].tolist(), "attn_l0_h0_row5": attn[0][0, 0, 5, :6].tolist()}, open(ref, "w"))
    print("wrote reference", ref)
