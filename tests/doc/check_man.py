#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The man pages cover the API and the CLI.

    check_man.py pages MAP MAN3_DIR          every map symbol has a page
    check_man.py cli FPGACTL FPGACTL_1       --help and fpgactl(1) agree
    check_man.py render PAGE...              groff renders each, no warning
    check_man.py kdoc KDOC2MAN INCLUDE_DIR   an undocumented function fails

Exit 0 when the check holds, 1 with the differences otherwise, 77 (skip)
when groff is missing for 'render'.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def check_pages(mapfile, man3):
    symbols = re.findall(r'^\s*(fpgactl_\w+);', open(mapfile).read(), re.M)
    missing = [s for s in symbols if not os.path.isfile(os.path.join(man3, s + '.3'))]
    for s in missing:
        print('no man page for %s (in %s): give it a kernel-doc comment' % (s, mapfile))
    if not symbols:
        print('no symbol found in', mapfile)
        return 1
    print('%d symbols of the map, %d pages missing' % (len(symbols), len(missing)))
    return 1 if missing else 0


def man_sections(text):
    """{command: section text} of the COMMANDS section of fpgactl.1."""
    body = '\n' + text.split('\n.SH COMMANDS\n', 1)[1].split('\n.SH ', 1)[0]
    out = {}
    for chunk in body.split('\n.SS ')[1:]:
        name = chunk.split()[0].replace('\\-', '-')
        out[name] = chunk.replace('\\-', '-')
    return out


def check_cli(fpgactl, page):
    help_text = subprocess.run([fpgactl, '--help'], capture_output=True, text=True,
                               check=True).stdout
    block = help_text.split('\nCommands:\n', 1)[1].split('\n\n', 1)[0]
    commands = [line.split()[0] for line in block.splitlines() if line.strip()]
    sections = man_sections(open(page).read())
    status = 0
    if sorted(commands) != sorted(sections):
        print('fpgactl --help lists %s\nfpgactl.1 lists     %s'
              % (sorted(commands), sorted(sections)))
        status = 1
    for cmd in commands:
        if cmd not in sections:
            continue
        usage = subprocess.run([fpgactl, cmd, '--help'], capture_output=True, text=True,
                               check=True).stdout
        opts = set(re.findall(r'^\s+(?:-\w, )?(--[\w-]+)', usage, re.M))
        opts -= {'--help', '--verbose'}     # the global options, documented once
        # The tags of the section's option list: the line after each .TP.
        lines = sections[cmd].split('\n')
        tags = ' '.join(lines[i + 1] for i, l in enumerate(lines[:-1]) if l == '.TP')
        for opt in sorted(opts):
            if not re.search(re.escape(opt) + r'(?![\w-])', tags):
                print('fpgactl %s takes %s, the option list of fpgactl.1 does not'
                      % (cmd, opt))
                status = 1
    print('%d commands in --help and fpgactl.1' % len(commands))
    return status


def check_render(pages):
    """groff, as man(1) runs it, with every warning on: one process for all
    pages (man -l per page costs a second each on a loaded machine; the
    install test runs man -l itself on fpgactl.1 and fpgactl_queue_reap.3)."""
    groff = shutil.which('groff')
    if not groff:
        print('SKIP: groff is not installed (apt-get install groff-base)')
        return 77
    r = subprocess.run([groff, '-man', '-Tutf8', '-ww', '-z'] + pages,
                       capture_output=True, text=True)
    if r.returncode or r.stderr.strip():
        print('groff: status %d\n%s' % (r.returncode, r.stderr))
        return 1
    print('%d pages rendered without warnings' % len(pages))
    return 0


def check_kdoc(kdoc2man, include):
    """Remove one kernel-doc comment from a copy of the headers: the
    generator must refuse, naming the function."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, 'include')
        shutil.copytree(include, copy)
        path = os.path.join(copy, 'fpgactl', 'queue.h')
        text = open(path).read()
        doc = re.search(r'/\*\*\n \* fpgactl_queue_reap\(\) - .*?\*/\n', text, re.S)
        if not doc:
            print('fpgactl_queue_reap() has no kernel-doc in', path)
            return 1
        open(path, 'w').write(text.replace(doc.group(0), ''))
        r = subprocess.run([sys.executable, kdoc2man, '--list', copy],
                           capture_output=True, text=True)
        if r.returncode == 0 or 'fpgactl_queue_reap()' not in r.stderr:
            print('kdoc2man accepted a header without the comment of '
                  'fpgactl_queue_reap(): status %d\n%s' % (r.returncode, r.stderr))
            return 1
        print('refused as expected:', r.stderr.strip())
    return 0


def main(argv):
    if argv[1] == 'pages':
        return check_pages(argv[2], argv[3])
    if argv[1] == 'cli':
        return check_cli(argv[2], argv[3])
    if argv[1] == 'render':
        return check_render(argv[2:])
    if argv[1] == 'kdoc':
        return check_kdoc(argv[2], argv[3])
    print('unknown check', argv[1])
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
