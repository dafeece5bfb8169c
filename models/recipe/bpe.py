#!/usr/bin/env python3
"""Byte-level BPE tokenizer: trainer, encoder and HF tokenizer.json writer.

Pre-tokenization (identical regex in Python `regex` and in the tokenizer.json
Split pre-tokenizer, which transformers.js runs as a JS /gu RegExp):
  contractions | optional space + letters | optional space + 1-3 digits |
  optional space + punctuation run | whitespace not followed by non-space | whitespace
Then GPT-2 byte-to-unicode mapping (Ġ = space), BPE merges by rank.
"""
import heapq, json, os, sys, time
from collections import Counter, defaultdict
import regex

PAT_STR = r"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}{1,3}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
PAT = regex.compile(PAT_STR)
BOS, EOS = "<|begin_of_text|>", "<|end_of_text|>"


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()


def train(texts, vocab_size=8192, min_count=2, log=print):
    """texts: iterable of str. Returns (vocab: dict str->id, merges: list[(a,b)])."""
    t0 = time.time()
    wc = Counter()
    for t in texts:
        wc.update(PAT.findall(t))
    log("unique words %d (%.1fs)" % (len(wc), time.time() - t0))
    # ids 0..255: byte symbols in byte order; specials at the end
    vocab = {B2U[b]: b for b in range(256)}
    id2s = [B2U[b] for b in range(256)]
    n_special = 2
    target = vocab_size - n_special
    words, counts = [], []
    for w, c in wc.items():
        if c < min_count and len(words) > 0 and len(w) > 1:
            continue
        words.append([b for b in w.encode("utf-8")])
        counts.append(c)
    del wc
    log("kept words %d" % len(words))
    pc = defaultdict(int)
    where = defaultdict(set)
    for i, w in enumerate(words):
        c = counts[i]
        for a, b in zip(w, w[1:]):
            pc[(a, b)] += c
            where[(a, b)].add(i)
    heap = [(-c, id2s[p[0]], id2s[p[1]], p) for p, c in pc.items()]
    heapq.heapify(heap)
    merges = []
    while len(id2s) < target and heap:
        negc, _, _, p = heapq.heappop(heap)
        if pc.get(p, 0) != -negc:
            if pc.get(p, 0) > 0:
                heapq.heappush(heap, (-pc[p], id2s[p[0]], id2s[p[1]], p))
            continue
        if -negc < 1:
            break
        a, b = p
        s = id2s[a] + id2s[b]
        if s in vocab:
            nid = vocab[s]
        else:
            nid = len(id2s); vocab[s] = nid; id2s.append(s)
        merges.append((id2s[a], id2s[b]))
        changed = Counter()
        for i in list(where.get(p, ())):
            w = words[i]; c = counts[i]
            # remove old pairs of this word
            for x, y in zip(w, w[1:]):
                pc[(x, y)] -= c; changed[(x, y)] += 0
            nw = []
            j = 0
            L = len(w)
            while j < L:
                if j < L - 1 and w[j] == a and w[j + 1] == b:
                    nw.append(nid); j += 2
                else:
                    nw.append(w[j]); j += 1
            words[i] = nw
            for x, y in zip(nw, nw[1:]):
                pc[(x, y)] += c; where[(x, y)].add(i); changed[(x, y)] += 0
        pc.pop(p, None); where.pop(p, None)
        for q in changed:
            cq = pc.get(q, 0)
            if cq > 0:
                heapq.heappush(heap, (-cq, id2s[q[0]], id2s[q[1]], q))
            else:
                pc.pop(q, None)
        if len(merges) % 1000 == 0:
            log("merges %d vocab %d (%.1fs)" % (len(merges), len(id2s), time.time() - t0))
    vocab[BOS] = len(id2s); id2s.append(BOS)
    vocab[EOS] = len(id2s); id2s.append(EOS)
    log("done: vocab %d merges %d (%.1fs)" % (len(vocab), len(merges), time.time() - t0))
    return vocab, merges


class Encoder:
    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.cache = {}
        self.bos = vocab[BOS]; self.eos = vocab[EOS]
        self.id2s = {i: s for s, i in vocab.items()}
        self.u2b = {u: b for b, u in B2U.items()}

    @classmethod
    def load(cls, path):
        tj = json.load(open(path, encoding="utf-8"))
        vocab = dict(tj["model"]["vocab"])
        for t in tj["added_tokens"]:
            vocab[t["content"]] = t["id"]
        merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in tj["model"]["merges"]]
        return cls(vocab, merges)

    def bpe(self, w):
        r = self.cache.get(w)
        if r is not None:
            return r
        syms = [B2U[b] for b in w.encode("utf-8")]
        ranks = self.ranks
        while len(syms) > 1:
            best, bi = None, -1
            for i in range(len(syms) - 1):
                rk = ranks.get((syms[i], syms[i + 1]))
                if rk is not None and (best is None or rk < best):
                    best, bi = rk, i
            if best is None:
                break
            a, b = syms[bi], syms[bi + 1]
            ns = []
            i = 0
            while i < len(syms):
                if i < len(syms) - 1 and syms[i] == a and syms[i + 1] == b:
                    ns.append(a + b); i += 2
                else:
                    ns.append(syms[i]); i += 1
            syms = ns
        r = [self.vocab[s] for s in syms]
        if len(self.cache) < 3000000:
            self.cache[w] = r
        return r

    def encode(self, text, add_bos=True):
        ids = [self.bos] if add_bos else []
        for w in PAT.findall(text):
            ids.extend(self.bpe(w))
        return ids

    def decode(self, ids):
        out = bytearray()
        parts = []
        for i in ids:
            s = self.id2s[i]
            if s in (BOS, EOS):
                parts.append(out.decode("utf-8", "replace")); out = bytearray(); parts.append(s)
            else:
                out.extend(self.u2b[c] for c in s)
        parts.append(out.decode("utf-8", "replace"))
        return "".join(parts)


def write_hf(vocab, merges, outdir, model_max_length=2048):
    os.makedirs(outdir, exist_ok=True)
    bos_id, eos_id = vocab[BOS], vocab[EOS]
    base_vocab = {s: i for s, i in vocab.items() if s not in (BOS, EOS)}
    special = lambda c, i: {"id": i, "content": c, "single_word": False, "lstrip": False,
                            "rstrip": False, "normalized": False, "special": True}
    tj = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(BOS, bos_id), special(EOS, eos_id)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PAT_STR}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": BOS, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {BOS: {"id": BOS, "ids": [bos_id], "tokens": [BOS]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": base_vocab,
                  "merges": ["%s %s" % m for m in merges]},
    }
    with open(os.path.join(outdir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    tc = {
        "add_bos_token": True, "add_eos_token": False,
        "added_tokens_decoder": {str(bos_id): special(BOS, bos_id), str(eos_id): special(EOS, eos_id)},
        "bos_token": BOS, "eos_token": EOS, "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
        "model_max_length": model_max_length, "tokenizer_class": "PreTrainedTokenizerFast",
    }
    for k in ("added_tokens_decoder",):
        for v in tc[k].values():
            v.pop("id", None)
    json.dump(tc, open(os.path.join(outdir, "tokenizer_config.json"), "w"), indent=2, ensure_ascii=False)
    json.dump({"bos_token": BOS, "eos_token": EOS},
              open(os.path.join(outdir, "special_tokens_map.json"), "w"), indent=2)


def iter_docs(path):
    t = open(path, encoding="utf-8").read()
    return [d for d in t.split("\n\x1e\n") if d]


def main_train(corpus, outdir, sample_mb=24, vocab_size=8192):
    import random
    srcs = sorted(f for f in os.listdir(corpus) if f.endswith(".train.txt"))
    sizes = {f: os.path.getsize(os.path.join(corpus, f)) for f in srcs}
    total = sum(sizes.values())
    frac = min(1.0, sample_mb * 2 ** 20 / total)
    rnd = random.Random(1234)
    texts = []
    for f in srcs:
        for d in iter_docs(os.path.join(corpus, f)):
            if rnd.random() < frac:
                texts.append(d)
    print("sampled %d docs, %.1f MB" % (len(texts), sum(map(len, texts)) / 2 ** 20), flush=True)
    vocab, merges = train(texts, vocab_size, log=lambda m: print(m, flush=True))
    write_hf(vocab, merges, outdir)


def encode_file(args):
    tokpath, path, out = args
    import numpy as np
    enc = Encoder.load(tokpath)
    ids = []
    for d in iter_docs(path):
        ids.extend(enc.encode(d, add_bos=False)); ids.append(enc.eos)
    np.array(ids, dtype=np.uint16).tofile(out)
    return path, len(ids)


def main_encode(tokpath, corpus, outdir):
    from multiprocessing import Pool
    os.makedirs(outdir, exist_ok=True)
    jobs = []
    fs = sorted((f for f in os.listdir(corpus) if f.endswith(".txt")),
                key=lambda f: -os.path.getsize(os.path.join(corpus, f)))
    for f in fs:
        jobs.append((tokpath, os.path.join(corpus, f), os.path.join(outdir, f[:-4] + ".bin")))
    stats = {}
    with Pool(2) as p:
        for path, n in p.imap_unordered(encode_file, jobs):
            print("encoded %s: %d tokens" % (os.path.basename(path), n), flush=True)
            stats[os.path.basename(path)[:-4]] = {"tokens": n, "bytes": os.path.getsize(path)}
    json.dump(stats, open(os.path.join(outdir, "tokens.json"), "w"), indent=1)


if __name__ == "__main__":
    if sys.argv[1] == "train":
        main_train(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 24)
    elif sys.argv[1] == "encode":
        main_encode(sys.argv[2], sys.argv[3], sys.argv[4])
