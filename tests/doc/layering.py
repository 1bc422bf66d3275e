#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check the layering of lib/ (docs/architecture.md, "Source layout and layering").

Every file under lib/ belongs to the layer of its folder.  A file may include
headers of its own layer and of the layers below it; an include of a header of
a higher layer fails, and so does any cycle of includes between files.  Includes
that name no file of lib/ (<fpgactl.h>, the generated config.h, system headers)
are not checked.

Usage: layering.py LIBDIR
"""
import os
import re
import sys

# Bottom first.  lib/compat holds uapi headers for old kernels: core.
LAYERS = ['core', 'pci', 'iommu', 'vfio', 'dma', 'queue', 'softcore', 'sim', 'api']
FOLDER_LAYER = dict({name: name for name in LAYERS}, compat='core')

# Known upward includes not broken yet, each with its reason (file, header).
# An entry that no longer occurs fails too, so that the list only shrinks.
KNOWN = {}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    folder = rel.split('/')[0] if '/' in rel else None
    return FOLDER_LAYER.get(folder)


def resolve(libdir, rel, name):
    """The lib/-relative path an #include "name" in lib/@rel reaches, or None."""
    for base in (os.path.dirname(rel), ''):
        cand = os.path.normpath(os.path.join(base, name))
        if not cand.startswith('..') and os.path.isfile(os.path.join(libdir, cand)):
            return cand
    return None


def scan(libdir):
    files = []
    for root, _, names in os.walk(libdir):
        for n in names:
            if n.endswith(('.c', '.h')):
                files.append(os.path.relpath(os.path.join(root, n), libdir))
    return sorted(files)


def find_cycle(graph):
    state = {}

    def visit(node, path):
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    libdir = sys.argv[1]
    errors = []
    graph = {}
    layer_graph = {}
    seen_known = set()
    for rel in scan(libdir):
        mine = layer_of(rel)
        if mine is None:
            errors.append('lib/%s is in no layer folder (%s)' % (rel, ', '.join(LAYERS)))
            continue
        with open(os.path.join(libdir, rel), encoding='utf-8') as f:
            text = f.read()
        for name in INCLUDE.findall(text):
            target = resolve(libdir, rel, name)
            if target is None:
                continue
            graph.setdefault(rel, set()).add(target)
            theirs = layer_of(target)
            if theirs is None:
                errors.append('lib/%s includes lib/%s, which is in no layer folder'
                              % (rel, target))
                continue
            if (rel, target) in KNOWN:
                seen_known.add((rel, target))
                continue
            if theirs != mine:
                layer_graph.setdefault(mine, set()).add(theirs)
            if LAYERS.index(theirs) > LAYERS.index(mine):
                errors.append('lib/%s includes "%s": the %s layer may not include the '
                              '%s layer above it (docs/architecture.md, "Source layout '
                              'and layering"); call up through an ops table instead'
                              % (rel, name, mine, theirs))
    for key in sorted(set(KNOWN) - seen_known):
        errors.append('lib/%s no longer includes lib/%s: remove it from KNOWN in %s'
                      % (key[0], key[1], os.path.basename(__file__)))
    cycle = find_cycle(graph)
    if cycle:
        errors.append('include cycle: ' + ' -> '.join('lib/' + c for c in cycle))
    cycle = find_cycle(layer_graph)
    if cycle:
        errors.append('layer cycle: ' + ' -> '.join(cycle))
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print('lib/: %d files, %d layers, no upward include, no cycle (%d known '
              'exceptions)' % (len(scan(libdir)), len(LAYERS), len(KNOWN)))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
