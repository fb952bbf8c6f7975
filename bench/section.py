#!/usr/bin/env python3
"""section.py FILE NAME: replaces the text between `<!-- BEGIN NAME -->` and
`<!-- END NAME -->` in FILE with standard input (appending a new marked block at the end
when the markers are missing). Every benchmark script of `make bench` writes its own block
of bench/RESULTS.md this way, so the prose around the blocks is kept."""
import sys


def main():
    path, name = sys.argv[1], sys.argv[2]
    body = sys.stdin.read().strip("\n") + "\n"
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    text = open(path).read()
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        text = text.rstrip("\n") + f"\n\n{begin}\n\n{body}\n{end}\n"
    else:
        text = text[: start + len(begin)] + f"\n\n{body}\n" + text[stop:]
    open(path, "w").write(text)


if __name__ == "__main__":
    main()
