#!/usr/bin/env python3
"""Measure held-out loss and attention-head roles; write card.json and README.md.

usage: analyze.py CKPT MODEL_DIR BINS_DIR CORPUS_DIR [--no-card]
Scores (per layer/head, fp32 eager attention, the same maths as the ONNX graph):
  previous-token = mean_i A[i][i-1]        (held-out prose, i >= 2; i = 1 is skipped because its
                                           previous token is the BOS sink, as in src/engine/headRoles.ts)
  induction      = mean attention from a token in the second copy of a random
                   word sequence repeated twice to the token that followed its
                   earlier occurrence (averaged over 8 sequences of 60 words)
  sink           = mean_i A[i][0]          (held-out prose, i >= 1)
"""
import glob, json, math, os, random, sys
import numpy as np
import torch
import torch.nn.functional as F
from model import LlamaForCausalLM, num_params
from bpe import Encoder

HERE = os.path.dirname(os.path.abspath(__file__))
ckpt, mdir, bins, corpus = sys.argv[1:5]
no_card = "--no-card" in sys.argv
torch.manual_seed(0); random.seed(0); np.random.seed(0)
torch.set_num_threads(2)
st = torch.load(ckpt, map_location="cpu")
cfg = st["config"]
model = LlamaForCausalLM(cfg); model.load_state_dict(st["model"]); model.eval()
enc = Encoder.load(os.path.join(mdir, "tokenizer.json"))
L, H = cfg["num_hidden_layers"], cfg["num_attention_heads"]
BOS = cfg["bos_token_id"]


def attn(ids):
    with torch.no_grad():
        x = torch.tensor([ids])
        lg, a = model(x, torch.ones_like(x), torch.arange(len(ids))[None], want_attn=True)
    return lg[0], [t[0] for t in a]  # per layer (H,S,S)


# held-out loss
valid = np.concatenate([np.fromfile(f, dtype=np.uint16) for f in sorted(glob.glob(os.path.join(bins, "*.valid.bin")))]).astype(np.int64)


def heldout_loss(seq, n):
    rng = np.random.default_rng(99)
    tot, cnt = 0.0, 0
    for _ in range(n):
        s = int(rng.integers(0, len(valid) - seq))
        ids = np.concatenate([[BOS], valid[s:s + seq]])
        x = torch.from_numpy(ids[:-1])[None]; y = torch.from_numpy(ids[1:])
        with torch.no_grad():
            lg = model(x, torch.ones_like(x), torch.arange(seq)[None])
        tot += F.cross_entropy(lg[0], y, reduction="sum").item(); cnt += seq
    return tot / cnt


quick = "--quick" in sys.argv
loss512 = heldout_loss(512, 2 if quick else 32)
loss2048 = heldout_loss(2048, 1 if quick else 8)
print("held-out loss 512: %.4f  2048: %.4f" % (loss512, loss2048), flush=True)

prose = open(os.path.join(HERE, "heldout-prose.txt"), encoding="utf-8").read()
pids = enc.encode(prose)
_, A = attn(pids)
prev = [[A[l][h].diagonal(-1)[1:].mean().item() for h in range(H)] for l in range(L)]
sink = [[A[l][h][1:, 0].mean().item() for h in range(H)] for l in range(L)]

words = sorted({w for w in open("/usr/share/dict/words").read().split()} if os.path.exists("/usr/share/dict/words") else set())
if not words:
    words = []
    for line in open("/usr/share/wordnet/index.noun", encoding="utf-8", errors="replace"):
        w = line.split(" ", 1)[0]
        if w.isalpha() and w.islower() and 3 <= len(w) <= 9:
            words.append(w)
words = [w for w in words if w.isalpha() and w.islower() and 3 <= len(w) <= 9]
rnd = random.Random(5)
ind = np.zeros((L, H)); nseq = 8
for r in range(nseq):
    seqw = rnd.sample(words, 60)
    first = enc.encode(" " + " ".join(seqw), add_bos=False)
    n = len(first)
    ids = [BOS] + first + first
    _, A = attn(ids)
    for l in range(L):
        for h in range(H):
            rows = torch.arange(1 + n, 1 + 2 * n - 1)
            cols = rows - n + 1
            ind[l, h] += A[l][h][rows, cols].mean().item() / nseq


gen = np.random.default_rng(11)
ind_tok = np.zeros((L, H))
for r in range(nseq):
    first = [int(t) for t in gen.integers(0, cfg["vocab_size"] - 2, size=100)]
    n = len(first)
    _, A = attn([BOS] + first + first)
    for l in range(L):
        for h in range(H):
            rows = torch.arange(1 + n, 1 + 2 * n - 1)
            ind_tok[l, h] += A[l][h][rows, rows - n + 1].mean().item() / nseq


def top(m, k=3):
    flat = sorted(((m[l][h], l, h) for l in range(L) for h in range(H)), reverse=True)[:k]
    return [{"layer": l, "head": h, "score": round(float(s), 3)} for s, l, h in flat]


res = {"heldOutLoss": {"512": round(loss512, 4), "2048": round(loss2048, 4)},
       "heads": {"previousToken": top(prev), "induction": top(ind), "sink": top(sink)},
       "allHeads": {"previousToken": [[round(v, 3) for v in r] for r in prev],
                    "induction": [[round(float(v), 3) for v in r] for r in ind],
                    "inductionRandomTokens": [[round(float(v), 3) for v in r] for r in ind_tok],
                    "sink": [[round(v, 3) for v in r] for r in sink]}}
print(json.dumps(res["heads"]), flush=True)
for k, m in res["allHeads"].items():
    print(k); [print("  L%d" % l, m[l]) for l in range(L)]
json.dump(res, open(os.path.join(os.path.dirname(ckpt), "analysis.json"), "w"), indent=1)
if no_card:
    sys.exit(0)

# ---- card ----
onnx_bytes = os.path.getsize(os.path.join(mdir, "onnx", "model.onnx"))
params = num_params(model)
srcs = json.load(open(os.path.join(corpus, "sources.json")))
toks = json.load(open(os.path.join(bins, "tokens.json")))
tokens_seen = int(st["tokens_seen"]); secs = float(st["train_seconds"])
ttime = "%d min on 2 CPU cores" % round(secs / 60)
a = st.get("args", {})
_ph = [p.split(":") for p in a.get("phases", "").split(",") if p]
_ps = st.get("phase_steps", [])
phases_txt = ", then ".join("%s steps on %s-token windows" % (_ps[i] if i < len(_ps) else "?", p[0]) for i, p in enumerate(_ph))
_h = st.get("history", [])
hist_pre = ("- from step 0 (before the run history was recorded): `train.py --phases 256:32:0.70,512:16:0.17,2048:4:0.13 "
            "--budget 3900 --warmup 100 --lr 2e-3` (copy 0.25, random 0.10), restarted at step 56 with `--budget 4500`\n"
            if _h and _h[0]["step"] > 0 else "")
phases_txt = os.environ.get("PA_PHASES_TXT", phases_txt)
hist_txt = hist_pre + "\n".join("- from step %d: `train.py %s`" % (h["step"], " ".join(h["argv"])) for h in st.get("history", []))
card_phases = ["%s:%s:%s" % (p[0], p[1], _ps[i] if i < len(_ps) else 0) for i, p in enumerate(_ph)]
card = {
    "name": "pa-mini-llama",
    "parameters": params,
    "layers": L, "attentionHeads": H, "kvHeads": cfg["num_key_value_heads"],
    "contextTokens": cfg["max_position_embeddings"],
    "tokenizer": "byte-level BPE, %d tokens (trained on the corpus)" % cfg["vocab_size"],
    "trainedOn": "%.0f MB of Debian-packaged text: fortunes, KJV Bible, Jargon File, WordNet, GCIDE, Perl and Python docs, man pages, Python stdlib" % (sum(v["bytes"] for v in srcs.values()) / 2 ** 20),
    "tokensSeen": tokens_seen,
    "trainingTime": ttime,
    "heldOutLoss": res["heldOutLoss"],
    "heads": res["heads"],
    "fileBytes": onnx_bytes,
    "trainingPhases": card_phases,
    "proxyNote": "A tiny proxy model: its attention shows patterns common to transformers (previous-token, induction, attention sinks), not the exact attention of any production model.",
}
json.dump(card, open(os.path.join(mdir, "card.json"), "w"), indent=2)

srows = []
for name, v in srcs.items():
    tr = toks.get(name + ".train", {}).get("tokens", 0); va = toks.get(name + ".valid", {}).get("tokens", 0)
    srows.append("| %s | %s | %.1f MB | %d | %s |" % (name, v["package"], v["bytes"] / 2 ** 20, tr + va, v["licence"]))
fmt = lambda lst: ", ".join("L%d H%d (%.2f)" % (d["layer"], d["head"], d["score"]) for d in lst)
allh = lambda m: "\n".join("| L%d | %s |" % (l, " | ".join("%.2f" % v for v in m[l])) for l in range(L))
hdr = "| layer | " + " | ".join("H%d" % h for h in range(H)) + " |\n|---|" + "---|" * H
readme = f"""# pa-mini-llama

The embedded default model of **Prompt Attention**: a miniature Llama trained from scratch
on freely licensed text from Debian packages, small enough to run on a laptop CPU and show
real transformer attention patterns.

## Architecture

Llama (transformers `LlamaForCausalLM` layout and `config.json`): RMSNorm, rotary position
embeddings (theta {cfg['rope_theta']:g}), SwiGLU MLP, grouped-query attention, tied input/output
embeddings, no biases.

| | |
|---|---|
| layers | {L} |
| hidden size | {cfg['hidden_size']} |
| attention heads | {H} query heads, {cfg['num_key_value_heads']} key/value heads (head dim {cfg['hidden_size'] // H}) |
| MLP intermediate size | {cfg['intermediate_size']} |
| vocabulary | {cfg['vocab_size']} |
| context | {cfg['max_position_embeddings']} tokens |
| parameters | {params:,} |
| ONNX file | `onnx/model.onnx`, fp32, {onnx_bytes:,} bytes (opset 14) |

ONNX inputs: `input_ids`, `attention_mask`, `position_ids` (int64, `[batch_size, sequence_length]`);
output: `logits` (`[batch_size, sequence_length, {cfg['vocab_size']}]`). The attention mask is combined
with the causal mask inside the graph (padding positions get the float32 minimum). Each layer's
attention is computed eagerly, as in transformers' Llama: `MatMul(q, k^T) / sqrt(32) + mask`,
one `Softmax` (axis -1), then `MatMul` with the (repeat_kv-expanded) values, so the attention
probabilities can be read from the Softmax outputs. No attention outputs are baked into the graph.

## Tokenizer

Byte-level BPE with {cfg['vocab_size']} entries (256 byte tokens, {cfg['vocab_size'] - 258} merges,
`<|begin_of_text|>` = {BOS} and `<|end_of_text|>` = {cfg['eos_token_id']}), trained on a 24 MB sample of
the corpus with `recipe/bpe.py`. Pre-tokenization is a Llama-3-like regex split
(`'s|'t|...`, optional space + letters, optional space + 1-3 digits, optional space + punctuation,
whitespace) followed by GPT-2 byte-to-unicode mapping (`Ġ` = space), so any Unicode text round-trips.
The post-processor prepends `<|begin_of_text|>` (as Llama 3 does); the model was trained with BOS at
position 0 of every window, and BOS acts as its attention sink.

## Training data

{sum(v['bytes'] for v in srcs.values()) / 2 ** 20:.0f} MB of text ({sum(x['tokens'] for x in toks.values()):,} tokens) extracted by `recipe/build_corpus.py`;
about 1% of documents held out for validation.

| source | Debian package | size | tokens | licence |
|---|---|---|---|---|
{chr(10).join(srows)}

## Training

Training: {tokens_seen:,} tokens seen in {int(st['step'])} optimizer steps ({phases_txt}), {ttime}
(the machine was shared with other jobs, so wall time is not a clean speed measure), AdamW (lr {a.get('lr', 0):g}, warmup {a.get('warmup', 0)} steps,
cosine to 10%, weight decay 0.1), bf16 autocast. In the final configuration {a.get('copy_frac', 0.25):.0%} of windows contain a span
copied from earlier in the same window and {a.get('rand_frac', 0.10):.0%} a span of random corpus tokens placed twice, which makes
induction heads form quickly.
Everything is seeded; `recipe/train.sh` rebuilds this directory from a bare Debian 12 machine.
This run used the time mode (phase switches and the cosine schedule follow elapsed training time,
final budget {a.get('budget', 0):g} s, adjustable at run time through `budget_override` in the run folder) on a machine shared with other jobs, and was resumed from checkpoints with
changed settings; the command lines, by the step they took over at:

{hist_txt}

Held-out loss (cross-entropy, nats/token): **{loss512:.3f}** on 512-token windows, **{loss2048:.3f}** on 2,048-token windows.

## Attention heads found

Measured with `recipe/analyze.py` (fp32, the same computation as the ONNX graph). Layers and heads are 0-based.

- previous-token heads (mean A[i][i-1] over i >= 2 on held-out prose `recipe/heldout-prose.txt`): {fmt(res['heads']['previousToken'])}
- induction heads (random 60-word sequence repeated twice; mean attention from the second copy to the token after the earlier occurrence): {fmt(res['heads']['induction'])}
- sink heads (mean attention to position 0, the BOS token): {fmt(res['heads']['sink'])}

Previous-token score per head:

{hdr}
{allh(res['allHeads']['previousToken'])}

Induction score per head:

{hdr}
{allh(res['allHeads']['induction'])}

Induction score per head on uniformly random token ids (100 tokens repeated twice):

{hdr}
{allh(res['allHeads']['inductionRandomTokens'])}

Sink score per head:

{hdr}
{allh(res['allHeads']['sink'])}

## What this model is not

It is a proxy. Its attention shows the patterns common to transformers (previous-token heads,
induction heads, attention sinks on the first token), but it is not the exact attention of any
production model, it knows little about the world, and its text generations are poor. Use it to
see how attention works, not to predict what a large model attends to.
"""
open(os.path.join(mdir, "README.md"), "w").write(readme)
print("wrote card and README")
