#!/usr/bin/env python3
"""Build the training corpus for pa-mini-llama from Debian packages.

Writes OUT/<source>.train.txt and OUT/<source>.valid.txt where documents are
separated by a line containing only "\x1e" (ASCII record separator), plus
OUT/sources.json describing each source (files, bytes, licence).
Deterministic: sampling uses fixed seeds; the validation split is chosen by a
hash of the document text (about 1%).
"""
import glob, gzip, hashlib, json, os, random, re, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

OUT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/pa-build/corpus"
os.makedirs(OUT, exist_ok=True)
SEP = "\n\x1e\n"
MB = 1 << 20


def read(p):
    with open(p, "rb") as f:
        data = f.read()
    if p.endswith(".gz") or p.endswith(".dz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def fortunes():
    docs = []
    for p in sorted(glob.glob("/usr/share/games/fortunes/*")):
        if "." in os.path.basename(p) or os.path.isdir(p) or os.path.islink(p):
            continue
        for d in re.split(r"\n%\n", read(p)):
            d = d.strip("\n")
            if d:
                docs.append(d)
    return docs


def kjv():
    # bible-kjv-text stores the text compressed; the `bible` program (bible-kjv) retrieves it
    t = subprocess.run(["bible", "-f", "gen1:1-rev22:21"], capture_output=True).stdout.decode("utf-8", "replace")
    lines = [l for l in t.split("\n") if l.strip()]
    return ["\n".join(lines[i:i + 30]) for i in range(0, len(lines), 30)]


def jargon():
    docs = []
    for p in sorted(glob.glob("/usr/share/doc/jargon-text/jargon.txt*")):
        if not os.path.isfile(p) or "copyright" in p or "changelog" in p:
            continue
        t = read(p)
        if len(t) < 100000:
            continue
        # split into entries at lines starting with ":" (jargon entry heads)
        parts = t.split("\n\n")
        cur = ""
        for part in parts:
            cur += part + "\n\n"
            if len(cur) > 3000:
                docs.append(cur.strip("\n")); cur = ""
        if cur.strip():
            docs.append(cur.strip("\n"))
    return docs


def wordnet(cap=7 * MB):
    docs = []
    for p in sorted(glob.glob("/usr/share/wordnet/data.*")):
        pos = p.rsplit(".", 1)[1]
        chunk = []
        for line in read(p).split("\n"):
            if not line or line.startswith("  "):
                continue
            if "|" not in line:
                continue
            head, gloss = line.split("|", 1)
            f = head.split()
            try:
                n = int(f[3], 16)
                words = [f[4 + 2 * i].replace("_", " ") for i in range(n)]
            except Exception:
                continue
            chunk.append("%s (%s): %s" % (", ".join(words), pos, gloss.strip()))
            if len(chunk) == 40:
                docs.append("\n".join(chunk)); chunk = []
        if chunk:
            docs.append("\n".join(chunk))
    random.Random(3).shuffle(docs)
    out, total = [], 0
    for d in docs:
        out.append(d); total += len(d)
        if total > cap:
            break
    return out


def gcide(cap=14 * MB):
    docs = []
    total = 0
    for p in sorted(glob.glob("/usr/share/dictd/gcide*.dict*")):
        t = read(p)
        entries = re.split(r"\n(?=\S)", t)
        rnd = random.Random(1)
        rnd.shuffle(entries)
        cur = []
        for e in entries:
            cur.append(e.strip())
            if len(cur) == 20:
                d = "\n\n".join(cur); cur = []
                docs.append(d); total += len(d)
                if total > cap:
                    return docs
    return docs


def perldoc():
    files = sorted(glob.glob("/usr/share/perl/*/pod/*.pod"))
    def conv(p):
        try:
            r = subprocess.run(["pod2text", "-w", "78", p], capture_output=True, timeout=60)
            return r.stdout.decode("utf-8", errors="replace").strip("\n")
        except Exception:
            return ""
    with ThreadPoolExecutor(2) as ex:
        return [d for d in ex.map(conv, files) if d]


def pydoc():
    docs = []
    for p in sorted(glob.glob("/usr/share/doc/python3.11/html/_sources/**/*.txt", recursive=True)):
        t = read(p).strip("\n")
        if t:
            docs.append(t)
    return docs


def manpages(n=900, cap=8 * MB):
    files = []
    for sec in ("1", "2", "3", "5", "7", "8"):
        files += sorted(glob.glob("/usr/share/man/man%s/*" % sec))
    files = [f for f in files if os.path.isfile(f) and not os.path.islink(f) and "gcloud" not in f]
    rnd = random.Random(2)
    rnd.shuffle(files)
    files = files[:n]
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    def conv(p):
        try:
            r = subprocess.run(["man", "-l", "-E", "UTF-8", p], capture_output=True, timeout=20, env=env)
            t = r.stdout.decode("utf-8", errors="replace")
            t = re.sub(r".\x08", "", t)  # strip overstrike
            return t.strip("\n")
        except Exception:
            return ""
    docs, total = [], 0
    with ThreadPoolExecutor(2) as ex:
        for d in ex.map(conv, files):
            if d and len(d) < 400000:
                docs.append(d); total += len(d)
                if total > cap:
                    break
    return docs


def pystdlib(cap=22 * MB):
    files = sorted(glob.glob("/usr/lib/python3.11/*.py") + glob.glob("/usr/lib/python3.11/*/*.py") +
                   glob.glob("/usr/lib/python3.11/*/*/*.py"))
    files = [f for f in files if "site-packages" not in f and "dist-packages" not in f
             and "/test/" not in f and "/lib2to3/tests" not in f]
    docs, total = [], 0
    for p in files:
        t = read(p).strip("\n")
        if t and len(t) < 300000:
            docs.append(t); total += len(t)
            if total > cap:
                break
    return docs


SOURCES = [
    ("fortunes", fortunes, "fortunes, fortunes-min", "various; BSD-style (fortune-mod) and mostly unattributed quotations"),
    ("kjv", kjv, "bible-kjv-text (via bible-kjv)", "public domain (King James Version)"),
    ("jargon", jargon, "jargon-text", "public domain (The Jargon File 4.x)"),
    ("wordnet", wordnet, "wordnet-base", "WordNet 3.0 licence (BSD-like, Princeton University)"),
    ("gcide", gcide, "dict-gcide", "GPL-3+ (GNU Collaborative International Dictionary of English)"),
    ("perldoc", perldoc, "perl-doc", "Artistic License or GPL-1+ (same terms as Perl)"),
    ("pydoc", pydoc, "python3.11-doc", "PSF License Version 2"),
    ("man", manpages, "man pages of installed packages (manpages, man-db and others)", "various free licences (per package)"),
    ("pystdlib", pystdlib, "libpython3.11-stdlib", "PSF License Version 2"),
]


def main():
    meta = {}
    only = set(os.environ.get("PA_SOURCES", "").split(",")) - {""}
    for name, fn, pkg, lic in SOURCES:
        if only and name not in only:
            continue
        docs = fn()
        tr, va = [], []
        for d in docs:
            h = int(hashlib.md5(d.encode("utf-8", "replace")).hexdigest()[:8], 16)
            (va if h % 100 == 0 else tr).append(d)
        for split, ds in (("train", tr), ("valid", va)):
            with open(os.path.join(OUT, "%s.%s.txt" % (name, split)), "w", encoding="utf-8") as f:
                f.write(SEP.join(ds))
        nbytes = sum(len(d.encode("utf-8", "replace")) for d in docs)
        meta[name] = {"package": pkg, "licence": lic, "documents": len(docs),
                      "bytes": nbytes, "validDocuments": len(va)}
        print("%-9s docs=%6d bytes=%9d valid=%d" % (name, len(docs), nbytes, len(va)), flush=True)
    old = {}
    mp = os.path.join(OUT, "sources.json")
    if os.path.exists(mp):
        old = json.load(open(mp))
    old.update(meta)
    json.dump(old, open(mp, "w"), indent=1)


if __name__ == "__main__":
    main()
