#!/usr/bin/env python3
"""Assemble the training corpus for edgeseek's default model.

Source: the Python 3.11 documentation as Debian ships it (package
`python3.11-doc`, pulled in by `python3-doc`), under the PSF License
(see /usr/share/doc/python3.11-doc/copyright). Every HTML page's main content
(`<div class="body" role="main">`) is converted to plain text: block elements
become line breaks, `<pre>` blocks keep their whitespace, scripts, styles,
navigation and heading permalinks ("¶") are dropped.

Index/search pages and the generated changelog are skipped. The split is by
document and deterministic: a page goes to validation when the first byte of
sha1(relative path) is < 13 (about 5% of pages). Output:

  OUT/train.txt, OUT/valid.txt   one document per page, joined by "\\n\\n\\n"
                                 (page texts never contain three newlines in a row)
  OUT/manifest.json              pages per split, sizes, source, license

  /usr/bin/python3 tools/train/corpus.py [--src DIR] [--out DIR]
"""
import argparse
import hashlib
import html
import html.parser
import json
import os
import re

DEFAULT_SRC = '/usr/share/doc/python3.11-doc/html'
SKIP_DIRS = {'_static', '_sources', '_downloads', '_images'}
SKIP_FILES = re.compile(r'^(genindex.*|search|py-modindex|download|contents|copyright|license|bugs|about)\.html$')
BLOCK = {'p', 'div', 'section', 'li', 'dt', 'dd', 'dl', 'ul', 'ol', 'table', 'tr', 'h1', 'h2', 'h3', 'h4',
         'h5', 'h6', 'blockquote', 'br', 'hr', 'pre', 'figure', 'caption', 'article', 'aside', 'header'}
DOC_SEP = '\n\n\n'


class MainText(html.parser.HTMLParser):
    """Collects the text inside Sphinx's <div class="body" role="main">."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0          # div depth inside the main body (0 = outside)
        self.skip = 0           # inside script/style/permalink
        self.pre = 0
        self.out = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.depth == 0:
            if tag == 'div' and a.get('role') == 'main':
                self.depth = 1
            return
        if tag == 'div':
            self.depth += 1
        if tag in ('script', 'style') or (tag == 'a' and 'headerlink' in (a.get('class') or '')):
            self.skip += 1
            return
        if tag == 'pre':
            self.pre += 1
        if tag in BLOCK:
            self.out.append('\n')
        if tag == 'li':
            self.out.append('- ')

    def handle_endtag(self, tag):
        if self.depth == 0:
            return
        if tag in ('script', 'style') or (tag == 'a' and self.skip):
            self.skip = max(0, self.skip - 1)
            return
        if tag == 'pre':
            self.pre = max(0, self.pre - 1)
        if tag in BLOCK:
            self.out.append('\n')
        if tag == 'div':
            self.depth -= 1

    def handle_data(self, data):
        if self.depth == 0 or self.skip:
            return
        if self.pre:
            self.out.append('\x01' + data.replace('\n', '\x02') + '\x01')
        else:
            self.out.append(re.sub(r'\s+', ' ', data))


def page_text(raw):
    p = MainText()
    p.feed(raw)
    p.close()
    text = ''.join(p.out)
    # normalise whitespace outside <pre>; keep code blocks verbatim
    parts = text.split('\x01')
    norm = []
    for i, part in enumerate(parts):
        if i % 2 == 1:
            norm.append(part.replace('\x02', '\n'))
        else:
            part = re.sub(r'[ \t]*\n[ \t]*', '\n', part)
            part = re.sub(r' {2,}', ' ', part)
            norm.append(part)
    text = ''.join(norm).replace('¶', '').replace('\u00a0', ' ')
    text = re.sub(r'\n{3,}', '\n\n', text)
    lines = [ln.rstrip() for ln in text.split('\n')]
    return '\n'.join(lines).strip()


def pages(src):
    out = []
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for f in sorted(files):
            if not f.endswith('.html') or SKIP_FILES.match(f):
                continue
            out.append(os.path.relpath(os.path.join(root, f), src))
    return sorted(out)


def is_valid(rel):
    return hashlib.sha1(rel.encode('utf-8')).digest()[0] < 13


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--src', default=DEFAULT_SRC)
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data'))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    split = {'train': [], 'valid': []}
    names = {'train': [], 'valid': []}
    for rel in pages(args.src):
        with open(os.path.join(args.src, rel), encoding='utf-8', errors='replace') as f:
            text = page_text(f.read())
        if len(text) < 200:
            continue
        k = 'valid' if is_valid(rel) else 'train'
        split[k].append(text)
        names[k].append(rel)
    manifest = {'source': args.src, 'package': 'python3.11-doc (Debian, via python3-doc)',
                'license': 'PSF License Agreement (Python Software Foundation); see /usr/share/doc/python3.11-doc/copyright',
                'split_rule': 'valid iff sha1(relative path)[0] < 13'}
    for k in ('train', 'valid'):
        data = DOC_SEP.join(split[k]) + '\n'
        with open(os.path.join(args.out, k + '.txt'), 'w', encoding='utf-8') as f:
            f.write(data)
        manifest[k] = {'pages': len(names[k]), 'chars': len(data), 'bytes': len(data.encode('utf-8')),
                       'files': names[k]}
        print(k, len(names[k]), 'pages', len(data), 'chars')
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)


if __name__ == '__main__':
    main()
