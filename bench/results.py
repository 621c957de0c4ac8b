"""Writing a benchmark's figures into bench/RESULTS.md: each run replaces its own marked
block (`<!-- NAME: start -->` ... `<!-- NAME: end -->`), keeping the text around it."""

from __future__ import annotations

from pathlib import Path


def write_block(path: Path, name: str, block: str) -> None:
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + start + "\n" + block + "\n" + end + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n{start}\n{block}\n{end}\n"
    path.write_text(text)
