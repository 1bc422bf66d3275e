#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Section-3 man pages from the kernel-doc comments of the public headers.

    kdoc2man.py --headers INCLUDE_DIR       print the headers read
    kdoc2man.py --list INCLUDE_DIR          print the page file names
    kdoc2man.py --outdir DIR [--version V] INCLUDE_DIR   write the pages

The headers are INCLUDE_DIR/fpgactl.h and INCLUDE_DIR/fpgactl/*.h, so a new
header or function gets its pages without a change here.
One page per public function (NAME, SYNOPSIS, ARGUMENTS, DESCRIPTION,
RETURN VALUE, STRUCTURES, SEE ALSO) and libfpgactl.3, the index.  A public
function is every prototype and every static inline definition of the
headers whose name has no "__" (those are internal helpers).  A public
function without a kernel-doc comment ("/** name() - summary") is an
error: the script exits 1 naming it, and the build stops.
"""
import argparse
import os
import re
import sys

KDOC_RE = re.compile(r'/\*\*(.*?)\*/', re.S)
# The name of a function being declared or defined at file scope.
FUNC_RE = re.compile(r'\b(fpgactl_[a-z0-9_]+)\s*\(')


def strip_comments(text):
    """Replace comments by blanks, keeping offsets and line numbers."""
    return re.sub(r'/\*.*?\*/|//[^\n]*',
                  lambda m: re.sub(r'[^\n]', ' ', m.group(0)), text, flags=re.S)


def kdoc_lines(body):
    """The lines of a /** */ comment without the leading ' * '."""
    out = []
    for line in body.split('\n'):
        line = re.sub(r'^\s*\* ?', '', line.rstrip())
        out.append(line)
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


class Doc:
    """One parsed kernel-doc comment."""

    def __init__(self, lines):
        head = lines[0].strip()
        m = re.match(r'(?:(struct|enum|union|typedef)\s+)?(\w+)(\(\))?\s*-\s*(.*)', head)
        if not m:
            raise ValueError('not kernel-doc: %r' % head)
        self.kind = m.group(1) or ('function' if m.group(3) else 'other')
        self.name = m.group(2)
        summary = [m.group(4)]
        rest = lines[1:]
        # A summary may continue on indented lines.
        while rest and rest[0].startswith(('\t', ' ')) and not rest[0].strip().startswith('@'):
            summary.append(rest.pop(0).strip())
        self.summary = ' '.join(s for s in summary if s).rstrip('.')
        self.params = []        # [(name, text)]
        self.sections = []      # [(title or None, [lines])]
        i = 0
        while i < len(rest):
            m = re.match(r'@(\w+|\.\.\.):\s*(.*)', rest[i])
            if not m:
                break
            text = [m.group(2)]
            i += 1
            while i < len(rest) and rest[i].startswith(('\t', ' ')) and rest[i].strip():
                text.append(rest[i].strip())
                i += 1
            self.params.append((m.group(1), ' '.join(text)))
        title, cur = None, []
        for line in rest[i:]:
            m = re.match(r'(Return|Returns|Context|Note|Example)s?:\s*(.*)', line)
            if m:
                self.sections.append((title, cur))
                title, cur = m.group(1).rstrip('s'), [m.group(2)] if m.group(2) else []
            else:
                cur.append(line)
        self.sections.append((title, cur))


class Function:
    def __init__(self, name, proto, header, inline):
        self.name, self.proto, self.header, self.inline = name, proto, header, inline
        self.doc = None


def parse_header(path):
    """Return (functions, docs by name, struct bodies by name) of one header."""
    text = open(path, encoding='utf-8').read()
    code = strip_comments(text)
    code = re.sub(r'#ifdef __cplusplus.*?#endif', lambda m: re.sub(r'[^\n]', ' ', m.group(0)),
                  code, flags=re.S)
    # Preprocessor lines (with their continuations) are not declarations;
    # this also drops the extern "C" block of C++ guards.
    code = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', lambda m: re.sub(r'[^\n]', ' ', m.group(0)),
                  code, flags=re.M)
    docs = {}
    for m in KDOC_RE.finditer(text):
        lines = kdoc_lines(m.group(1))
        if not lines or not re.match(r'(struct |enum |union |typedef )?\w+(\(\))?\s+-\s', lines[0].strip()):
            continue            # a /** */ comment on a macro: not kernel-doc
        doc = Doc(lines)
        docs[(doc.kind if doc.kind != 'function' else 'function', doc.name)] = doc
    functions = []
    # Statements at file scope: split the comment-free code on ';' and on
    # the bodies of inline functions.
    depth, start = 0, 0
    pos = 0
    stmts = []
    while pos < len(code):
        c = code[pos]
        if c == '{':
            if depth == 0:
                stmts.append((code[start:pos], True))
            depth += 1
        elif c == '}':
            depth -= 1
            if depth == 0:
                start = pos + 1
        elif c == ';' and depth == 0:
            stmts.append((code[start:pos], False))
            start = pos + 1
        pos += 1
    for stmt, is_def in stmts:
        stmt = '\n'.join(l for l in stmt.split('\n') if not l.strip().startswith('#'))
        stmt = ' '.join(strip_attributes(stmt).split())
        if not stmt or stmt.startswith(('typedef', 'struct fpgactl_', 'enum ', 'union ')) and '(' not in stmt:
            continue
        if stmt.startswith(('typedef', '_Static_assert', 'extern "C"')):
            continue
        m = FUNC_RE.search(stmt)
        if not m or '=' in stmt.split('(')[0]:
            continue
        name = m.group(1)
        if '__' in name:
            continue
        inline = stmt.startswith('static inline')
        if is_def and not inline:
            continue
        proto = stmt.replace('static inline ', '') + ';'
        proto = re.sub(r'\(\s+', '(', re.sub(r'\s+\)', ')', proto))
        proto = re.sub(r'\*\s+(\w)', r'*\1', proto)
        functions.append(Function(name, proto, path, inline))
    structs = {}
    for m in re.finditer(r'^(struct|enum) (fpgactl_\w+) \{.*?^\};', text, re.S | re.M):
        structs[(m.group(1), m.group(2))] = strip_comments(m.group(0))
    return functions, docs, structs


def strip_attributes(stmt):
    """Remove __attribute__((...)) (balanced parentheses) from a declaration."""
    while True:
        i = stmt.find('__attribute__')
        if i < 0:
            return stmt
        j = stmt.find('(', i)
        depth, k = 0, j
        while k < len(stmt):
            depth += {'(': 1, ')': -1}.get(stmt[k], 0)
            if depth == 0:
                break
            k += 1
        stmt = stmt[:i] + stmt[k + 1:]


def roff_escape(s):
    s = s.replace('\\', '\\e')
    s = re.sub(r'(?<![\w])-(?=E[A-Z]|errno|\d)', r'\\-', s)
    return s


def inline_markup(s, params):
    """kernel-doc references to roff fonts."""
    s = roff_escape(s)
    s = re.sub(r'\b(fpgactl_\w+)\(\)', r'\\fB\1\\fP()', s)
    s = re.sub(r'&(struct|enum) (\w+)(\.\w+)?', lambda m: '\\fB%s %s\\fP%s' % (
        m.group(1), m.group(2), ('\\fI' + m.group(3) + '\\fP') if m.group(3) else ''), s)
    s = re.sub(r'&(fpgactl_\w+)(\.\w+)?', lambda m: '\\fB%s\\fP%s' % (
        m.group(1), ('\\fI' + m.group(2) + '\\fP') if m.group(2) else ''), s)
    s = re.sub(r'@([A-Za-z_]\w*)((?:->\w+)*)', r'\\fI\1\2\\fP', s)
    s = re.sub(r'%(\w+)', r'\\fB\1\\fP', s)
    return s


def paragraphs(lines, params):
    """Body lines to roff: blank lines separate paragraphs; indented lines
    after a colon are kept as a literal block."""
    out = []
    for line in lines:
        if not line.strip():
            out.append('.PP')
            continue
        text = inline_markup(line.strip(), params)
        if text.startswith(('.', "'")):
            text = '\\&' + text
        out.append(text)
    while out and out[0] == '.PP':
        out.pop(0)
    while out and out[-1] == '.PP':
        out.pop()
    return out


def proto_roff(proto):
    """A prototype, one parameter per line after the first."""
    head, _, args = proto.partition('(')
    args = args.rsplit(')', 1)[0]
    parts = [a.strip() for a in args.split(',')]
    m = re.match(r'(.*?)(\**)(fpgactl_\w+)\s*$', head.strip())
    ret, stars, name = m.group(1).strip(), m.group(2), m.group(3)
    first = '.BI "%s %s%s(' % (roff_escape(ret), stars, name)
    lines = []
    indent = ' ' * (len(ret) + len(stars) + len(name) + 2)
    for i, a in enumerate(parts):
        am = re.match(r'(.*?)(\w+)$', a)
        if a in ('void', '...') or not am:
            typ, pname = a, ''
        else:
            typ, pname = am.group(1), am.group(2)
        end = ');' if i == len(parts) - 1 else ','
        lead = first if i == 0 else '.BI "' + indent
        if pname:
            lines.append('%s%s" %s "%s"' % (lead, roff_escape(typ), pname, end))
        else:
            lines.append('%s%s%s"' % (lead, roff_escape(typ), end))
    return lines


def referenced_types(proto):
    return re.findall(r'(struct|enum) (fpgactl_\w+)', proto)


def page_name(func):
    return func.name + '.3'


def write_page(func, all_funcs, docs, structs, version, include):
    doc = func.doc
    params = [p for p, _ in doc.params]
    out = ['.\\" Generated by docs/man/kdoc2man.py from %s; do not edit.'
           % os.path.relpath(func.header, include),
           '.TH %s 3 "" "libfpgactl %s" "libfpgactl Manual"' % (func.name.upper(), version),
           '.SH NAME',
           '%s \\- %s' % (func.name, roff_escape(doc.summary)),
           '.SH SYNOPSIS',
           '.nf',
           '.B #include <fpgactl.h>',
           '.PP']
    out += proto_roff(func.proto)
    out += ['.fi', '.PP',
            'Link with \\fB\\-lfpgactl\\fP (\\fBpkg\\-config \\-\\-libs libfpgactl\\fP).'
            if not func.inline else
            'An inline function of \\fB<%s>\\fP; nothing to link.'
            % os.path.relpath(func.header, include)]
    if doc.params:
        out.append('.SH ARGUMENTS')
        for p, text in doc.params:
            out += ['.TP', '.I ' + p, inline_markup(text, params)]
    body = [(t, l) for t, l in doc.sections if t != 'Return' and any(x.strip() for x in l)]
    out.append('.SH DESCRIPTION')
    if body:
        for title, lines in body:
            if title:
                out.append('.PP\n.B %s:' % title)
            out += paragraphs(lines, params)
    else:
        out.append(inline_markup(doc.summary[0].upper() + doc.summary[1:], params) + '.')
    ret = [l for t, l in doc.sections if t == 'Return']
    out.append('.SH RETURN VALUE')
    if ret:
        lines = list(ret[0])
        lines[0] = lines[0][:1].upper() + lines[0][1:]
        out += paragraphs(lines, params)
    elif func.proto.startswith('void '):
        out.append('None.')
    else:
        out.append(inline_markup(doc.summary[0].upper() + doc.summary[1:], params) + '.')
    types = []
    for kind, name in referenced_types(func.proto):
        if (kind, name) in structs and (kind, name) not in types:
            types.append((kind, name))
    if types:
        out.append('.SH STRUCTURES')
        for kind, name in types:
            tdoc = docs.get((kind, name))
            out += ['.PP', '.nf']
            for line in structs[(kind, name)].split('\n'):
                line = line.rstrip()
                if line.strip():
                    out.append('\\&' + roff_escape(line.replace('\t', '        ')))
            out.append('.fi')
            if tdoc:
                tparams = [p for p, _ in tdoc.params]
                for p, text in tdoc.params:
                    out += ['.TP', '.I ' + p, inline_markup(text, tparams)]
    text = ' '.join(l for _, ls in doc.sections for l in ls) + ' '.join(t for _, t in doc.params)
    names = {f.name for f in all_funcs}
    refs = [n for n in dict.fromkeys(re.findall(r'\b(fpgactl_\w+)\(\)', text))
            if n in names and n != func.name]
    same = [f.name for f in all_funcs if f.header == func.header and f.name != func.name
            and f.name not in refs]
    see = refs + same[:max(0, 8 - len(refs))]
    out += ['.SH SEE ALSO', '.nh', '.ad l']
    out.append(',\n'.join('.BR %s (3)' % n for n in see + ['libfpgactl']))
    return '\n'.join(out) + '\n'


def write_index(funcs, version, include):
    out = ['.\\" Generated by docs/man/kdoc2man.py; do not edit.',
           '.TH LIBFPGACTL 3 "" "libfpgactl %s" "libfpgactl Manual"' % version,
           '.SH NAME',
           'libfpgactl \\- drive a PCIe device from user space through VFIO',
           '.SH SYNOPSIS',
           '.nf',
           '.B #include <fpgactl.h>',
           '.fi',
           '.PP',
           'Link with \\fB\\-lfpgactl\\fP (\\fBpkg\\-config \\-\\-cflags \\-\\-libs libfpgactl\\fP).',
           '.SH DESCRIPTION',
           'Every call that can fail returns 0 or a negative errno; calls that',
           'return a pointer take an \\fIint *err\\fP for it.',
           'The library never prints: messages, each naming the cause and the fix,',
           'go to the hook installed with \\fBfpgactl_set_log\\fP(3).',
           'One page per function:']
    header = None
    for f in funcs:
        if f.header != header:
            header = f.header
            out += ['.SS <%s>' % os.path.relpath(header, include)]
        out += ['.TP', '.BR %s (3)' % f.name, roff_escape(f.doc.summary)]
    out += ['.SH SEE ALSO', '.BR fpgactl (1)']
    return '\n'.join(out) + '\n'


def collect(headers):
    funcs, docs, structs = [], {}, {}
    for h in headers:
        f, d, s = parse_header(os.path.abspath(h))
        funcs += f
        docs.update(d)
        structs.update(s)
    missing = []
    for f in funcs:
        f.doc = docs.get(('function', f.name))
        if f.doc is None:
            missing.append(f)
    return funcs, docs, structs, missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--headers', action='store_true')
    ap.add_argument('--outdir')
    ap.add_argument('--version', default='')
    ap.add_argument('include')
    args = ap.parse_args()
    include = os.path.abspath(args.include)
    sub = os.path.join(include, 'fpgactl')
    headers = [os.path.join(include, 'fpgactl.h')] + sorted(
        os.path.join(sub, h) for h in os.listdir(sub) if h.endswith('.h'))
    if args.headers:
        print('\n'.join(headers))
        return 0
    funcs, docs, structs, missing = collect(headers)
    if missing:
        for f in missing:
            print('%s: public function %s() has no kernel-doc comment '
                  '("/** %s() - summary"); add one, its man page is made from it'
                  % (f.header, f.name, f.name), file=sys.stderr)
        return 1
    seen = set()
    for f in funcs:
        if f.name in seen:
            print('%s: %s() declared twice' % (f.header, f.name), file=sys.stderr)
            return 1
        seen.add(f.name)
    if args.list:
        print('\n'.join(['libfpgactl.3'] + [page_name(f) for f in funcs]))
        return 0
    os.makedirs(args.outdir, exist_ok=True)
    pages = {'libfpgactl.3': write_index(funcs, args.version, include)}
    for f in funcs:
        f.header = os.path.abspath(f.header)
        pages[page_name(f)] = write_page(f, funcs, docs, structs, args.version, include)
    for name, text in pages.items():
        with open(os.path.join(args.outdir, name), 'w', encoding='utf-8') as fp:
            fp.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
