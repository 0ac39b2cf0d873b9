"""Checks queries/highlights.scm against real files, beyond what the highlight tests
assert: every name gets a colour, and no node gets two captures (Helix and Neovim pick
between overlapping captures in opposite orders, so one file can only serve both if
captures never overlap).

Usage: python3 test/captures.py TREE_SITTER_BINARY FILE.rules...
"""

import re
import subprocess
import sys
import tempfile
from collections import defaultdict

CAPTURE = re.compile(r"capture: \d+ - ([\w.]+), start: \((\d+), (\d+)\), end: \((\d+), (\d+)\)")


def captures(ts, query, files):
    out = subprocess.run(
        [ts, "query", "-p", ".", query, *files], check=True, capture_output=True, text=True
    ).stdout
    found, current = defaultdict(set), None
    for line in out.splitlines():
        if not line.startswith(" "):
            current = line.strip()
        elif m := CAPTURE.search(line):
            found[(current, *map(int, m.groups()[1:]))].add(m.group(1))
    return found


def main():
    ts, files = sys.argv[1], sys.argv[2:]
    highlights = captures(ts, "queries/highlights.scm", files)
    with tempfile.NamedTemporaryFile("w", suffix=".scm") as q:
        q.write("(identifier) @name\n")
        q.flush()
        names = captures(ts, q.name, files)
    problems = []
    for where, caps in sorted(highlights.items()):
        if len(caps) > 1:
            problems.append(f"{where}: captured as {sorted(caps)}")
    for where in sorted(names):
        if where not in highlights:
            problems.append(f"{where}: a name no highlight pattern captures")
    for p in problems:
        print("captures:", p)
    print(f"captures: {len(highlights)} ranges in {len(files)} files, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
