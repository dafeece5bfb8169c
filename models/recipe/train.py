#!/usr/bin/env python3
"""Train pa-mini-llama on the encoded corpus. Resumable from OUT/last.pt.

Phases (--phases): 256-token windows, then 512, then 2048 (8192 tokens per
step throughout; attention cost grows with window length, so the short
phase is where most tokens are seen). Every window starts with BOS.
About 25% of windows get a copied span (a span of the window repeated later
in the same window) and 10% a span of randomly sampled corpus tokens
placed twice, which makes induction heads form quickly.
"""
import argparse, glob, json, math, os, random, sys, time
import numpy as np
import torch
import torch.nn.functional as F
from model import LlamaForCausalLM, DEFAULT_CONFIG, num_params

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--out", required=True)
p.add_argument("--layers", type=int, default=4)
p.add_argument("--phases", default="256:32:1500,512:16:200,2048:4:60",
               help="comma list of seq:batch:steps, run in order (step-count mode)")
p.add_argument("--budget", type=float, default=0.0,
               help="time mode: total training seconds; --phases then gives seq:batch:FRACTION of the time "
                    "and the LR schedule follows elapsed time (the machine is shared, so step speed varies)")
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--warmup", type=int, default=150)
p.add_argument("--seed", type=int, default=1234)
p.add_argument("--copy-frac", type=float, default=0.25, help="windows with a span copied from earlier in the window")
p.add_argument("--rand-frac", type=float, default=0.10, help="windows with a span of random corpus tokens placed twice")
p.add_argument("--ckpt-every", type=float, default=180.0, help="seconds")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--max-seconds", type=float, default=1e9, help="stop (with checkpoint) after this many seconds in this process")
args = p.parse_args()
PHASES = [tuple(float(v) for v in ph.split(":")) for ph in args.phases.split(",")]
PHASES = [(int(a), int(b), c) for a, b, c in PHASES]
TIME_MODE = args.budget > 0
args.steps = 10 ** 9 if TIME_MODE else int(sum(ph[2] for ph in PHASES))

random.seed(args.seed); np.random.seed(args.seed); torch.manual_seed(args.seed)
torch.set_num_threads(args.threads)
os.makedirs(args.out, exist_ok=True)

train_files = sorted(glob.glob(os.path.join(args.data, "*.train.bin")))
data = np.concatenate([np.fromfile(f, dtype=np.uint16) for f in train_files]).astype(np.int64)
N = len(data)
cfg = dict(DEFAULT_CONFIG, num_hidden_layers=args.layers)
BOS = cfg["bos_token_id"]
print("train tokens %d from %d files" % (N, len(train_files)), flush=True)


def phase_at(step, secs):
    acc = 0
    for i, (seq, bsz, n) in enumerate(PHASES):
        acc += n
        if (secs < acc * args.budget) if TIME_MODE else (step < acc):
            return i
    return len(PHASES) - 1


def get_batch(step, ph):
    seq, bsz, _ = PHASES[ph]
    rng = np.random.default_rng(args.seed * 1000003 + step)
    out = np.empty((bsz, seq + 1), dtype=np.int64)
    for i in range(bsz):
        s = int(rng.integers(0, N - seq))
        w = out[i]
        w[0] = BOS
        w[1:] = data[s:s + seq]
        r = rng.random()
        if r < args.copy_frac + args.rand_frac:
            L = int(rng.integers(8, max(9, min(160, seq // 4))))
            if r < args.copy_frac:
                a = int(rng.integers(1, seq // 2 - L))
                span = w[a:a + L].copy()
            else:  # random corpus tokens, placed twice
                a = int(rng.integers(1, seq // 2 - L))
                span = data[rng.integers(0, N, size=L)]
                w[a:a + L] = span
            b = int(rng.integers(a + L, seq + 1 - L))
            w[b:b + L] = span
    x = torch.from_numpy(out)
    return x[:, :-1].contiguous(), x[:, 1:].contiguous(), seq


model = LlamaForCausalLM(cfg)
print("params %d" % num_params(model), flush=True)
decay = [p_ for n, p_ in model.named_parameters() if p_.dim() >= 2]
nodecay = [p_ for n, p_ in model.named_parameters() if p_.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                         {"params": nodecay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

ck = os.path.join(args.out, "last.pt")
step, tokens_seen, train_seconds = 0, 0, 0.0
phase_steps = [0] * len(PHASES)
if os.path.exists(ck):
    st = torch.load(ck, map_location="cpu")
    model.load_state_dict(st["model"]); opt.load_state_dict(st["opt"])
    step, tokens_seen, train_seconds = st["step"], st["tokens_seen"], st["train_seconds"]
    phase_steps = st.get("phase_steps", phase_steps)
    if len(phase_steps) != len(PHASES):
        phase_steps = [0] * len(PHASES)
    print("resumed at step %d" % step, flush=True)
history = (st.get("history", []) if os.path.exists(ck) else []) + [{"step": step, "argv": sys.argv[1:]}]


def lr_at(s):
    if s < args.warmup:
        return args.lr * (s + 1) / args.warmup
    if TIME_MODE:
        t = train_seconds / args.budget
    else:
        t = (s - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def save():
    tmp = ck + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "config": cfg,
                "tokens_seen": tokens_seen, "train_seconds": train_seconds, "args": vars(args),
                "phase_steps": phase_steps, "history": history}, tmp)
    os.replace(tmp, ck)
    json.dump({"step": step, "tokens_seen": tokens_seen, "train_seconds": train_seconds, "config": cfg,
               "history": history, "phases_realized": ["%d:%d:%d" % (PHASES[i][0], PHASES[i][1], n) for i, n in enumerate(phase_steps)],
               "args": vars(args)}, open(os.path.join(args.out, "progress.json"), "w"), indent=1)


model.train()
t_last_ck = time.time()
t_start = time.time()
t_log = time.time(); tok_log = 0; loss_acc = 0.0; n_acc = 0
override = os.path.join(args.out, "budget_override")
while step < args.steps and not (TIME_MODE and train_seconds >= args.budget):
    t0 = time.time()
    if TIME_MODE and os.path.exists(override):  # lets an operator stretch/shrink a running job
        try:
            nb = float(open(override).read().strip())
            if nb != args.budget:
                print("budget %.0f -> %.0f" % (args.budget, nb), flush=True); args.budget = nb
        except ValueError:
            pass
    for g in opt.param_groups:
        g["lr"] = lr_at(step)
    ph = phase_at(step, train_seconds)
    phase_steps[ph] += 1
    x, y, seq = get_batch(step, ph)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x, fast=True)
    loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.view(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    step += 1
    tokens_seen += x.numel(); tok_log += x.numel()
    train_seconds += time.time() - t0
    loss_acc += loss.item(); n_acc += 1
    if step % 20 == 0 or step == args.steps:
        dt = time.time() - t_log
        print("step %d/%d seq %d loss %.4f lr %.2e tok/s %.0f tokens %d time %.0fs" %
              (step, -1 if TIME_MODE else args.steps, seq, loss_acc / n_acc, lr_at(step), tok_log / dt, tokens_seen, train_seconds), flush=True)
        t_log = time.time(); tok_log = 0; loss_acc = 0.0; n_acc = 0
    if time.time() - t_last_ck > args.ckpt_every or step == args.steps:
        save(); t_last_ck = time.time()
    elif TIME_MODE and train_seconds >= args.budget:
        save()
    if time.time() - t_start > args.max_seconds:
        save(); print("stopping after max-seconds", flush=True); break
print("done", flush=True)
