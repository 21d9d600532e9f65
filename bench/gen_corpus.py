#!/usr/bin/env python3
"""Builds a benchmark corpus of about N Kubernetes objects from the bundled examples and the
real-world manifests in ../shared/corpus/real-manifests (only files its index marks parseable).

Each copy renames the objects (`metadata.name` gets a `-bK` suffix) so that the corpus holds
distinct objects, as a large repository would. Standard library only.

usage: gen_corpus.py N OUT_DIR [--corpus PATH]
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def find_corpus(explicit):
    if explicit:
        return explicit
    d = ROOT
    while True:
        c = os.path.join(d, "shared", "corpus")
        if os.path.isdir(c):
            return c
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


NAME = re.compile(r"^(\s+name:\s*)(['\"]?)([A-Za-z0-9.\-_]+)(['\"]?)\s*$")


def rename(doc, suffix):
    """Suffixes the first `name:` under a top-level `metadata:` block."""
    out, in_meta, done = [], False, False
    for line in doc.split("\n"):
        if not done:
            if line.startswith("metadata:"):
                in_meta = True
            elif in_meta and line and not line[0].isspace():
                in_meta = False
            elif in_meta:
                m = NAME.match(line)
                if m and len(m.group(1)) - len(m.group(1).lstrip()) == 2:
                    line = f"{m.group(1)}{m.group(2)}{m.group(3)}{suffix}{m.group(4)}"
                    done = True
        out.append(line)
    return "\n".join(out)


def sources(corpus):
    files = []
    for sub in ("insecure", "hardened"):
        d = os.path.join(ROOT, "examples", sub)
        for f in sorted(os.listdir(d)):
            if f.endswith(".yaml"):
                text = open(os.path.join(d, f)).read()
                files.append((f"examples-{sub}-{f}", text, text.count("\nkind:") + text.startswith("kind:")))
    if corpus:
        rm = os.path.join(corpus, "real-manifests")
        for row in open(os.path.join(rm, "manifest_index.tsv")).read().splitlines()[1:]:
            path, count, _kinds, status = row.split("\t")
            if status == "ok" and int(count) > 0 and path.endswith((".yaml", ".yml")):
                files.append((path.replace("/", "-"), open(os.path.join(rm, path)).read(), int(count)))
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--corpus")
    a = ap.parse_args()
    corpus = find_corpus(a.corpus)
    if not corpus:
        print("note: ../shared/corpus not found; using examples/ only", file=sys.stderr)
    files = sources(corpus)
    os.makedirs(a.out, exist_ok=True)
    total, k = 0, 0
    while total < a.n:
        for name, text, count in files:
            if total >= a.n:
                break
            docs = re.split(r"(?m)^---[ \t]*$", text)
            renamed = "\n---\n".join(rename(d, f"-b{k}") for d in docs)
            with open(os.path.join(a.out, f"{k:03d}-{name}"), "w") as fh:
                fh.write(renamed)
            total += count
        k += 1
    print(f"{total} objects in {a.out}")


if __name__ == "__main__":
    main()
