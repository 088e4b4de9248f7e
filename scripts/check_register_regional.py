"""Check the regional/internet register glossary against formal prose.

assistant/check/rules/register_regional.yaml lists dialect and internet words (register
rules R1/R2) collected from published glossaries.  A word there becomes a finding on any
report that contains it, so a word that formal prose uses (in any sense, or as a substring
of a longer word) would be a false alarm.  This script counts every glossary word in:

* the FORMAL_TXT files given on the command line, and
  (measured with the news corpora of scripts/train_register_model.py: MSRA's and People's
  Daily's text, one sentence a line, quoted speech left out, 2.65 million characters), and
* the repository's own formal prose, always: evals/style/corpus/*.txt (UTF-8 or GBK),
  evals/register/national/*.txt (the national 政府工作报告 of 1992–2016),
  the `text` fields of evals/grounding/*.yaml and evals/register/published*.yaml, and
  knowledge/**/*.md.

It prints every word with its count and exits 1 when any word occurs anywhere.

    .venv/bin/python scripts/check_register_regional.py [--yaml PATH] [--hits-only] FORMAL_TXT...

tests/test_register_regional.py imports the functions below (load_words, repo_formal_texts,
occurrences) to keep the glossary clean of the repository's formal prose.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "assistant" / "check" / "rules" / "register_regional.yaml"


def load_glossary(path: Path = GLOSSARY) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_words(path: Path = GLOSSARY) -> list[str]:
    return [entry["word"] for entry in load_glossary(path)["words"]]


def read_text(path: Path) -> str:
    """Decode UTF-8, else GB18030 (a superset of GBK): some corpus files are GBK."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="ignore")


def _text_fields(node: object) -> Iterator[str]:
    """Every string stored under a `text` key, at any depth of a YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _text_fields(value)
    elif isinstance(node, list):
        for item in node:
            yield from _text_fields(item)


def repo_formal_texts(root: Path = ROOT) -> dict[str, str]:
    """The repository's formal prose, keyed by path relative to root."""
    texts: dict[str, str] = {}
    for path in sorted((root / "evals" / "style" / "corpus").glob("*.txt")):
        texts[str(path.relative_to(root))] = read_text(path)
    for path in sorted((root / "evals" / "register" / "national").glob("*.txt")):
        texts[str(path.relative_to(root))] = read_text(path)
    yaml_files = sorted((root / "evals" / "grounding").glob("*.yaml"))
    yaml_files += sorted((root / "evals" / "register").glob("published*.yaml"))
    for path in yaml_files:
        document = yaml.safe_load(read_text(path))
        texts[str(path.relative_to(root))] = "\n".join(_text_fields(document))
    for path in sorted((root / "knowledge").rglob("*.md")):
        texts[str(path.relative_to(root))] = read_text(path)
    return texts


def occurrences(words: Iterable[str], texts: dict[str, str]) -> dict[str, dict[str, int]]:
    """word -> {text name: count} for the texts that contain the word (substring count)."""
    found: dict[str, dict[str, int]] = {}
    for word in words:
        hits = {name: text.count(word) for name, text in texts.items() if word in text}
        found[word] = hits
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("formal", nargs="*", type=Path, help="extra formal text files")
    parser.add_argument("--yaml", type=Path, default=GLOSSARY, help="glossary to check")
    parser.add_argument("--hits-only", action="store_true", help="print only words that occur")
    args = parser.parse_args(argv)

    words = load_words(args.yaml)
    texts = repo_formal_texts()
    for path in args.formal:
        texts[str(path)] = read_text(path)
    found = occurrences(words, texts)

    total_chars = sum(len(text) for text in texts.values())
    hit_words = [word for word in words if found[word]]
    for word in words:
        hits = found[word]
        if hits or not args.hits_only:
            detail = ", ".join(f"{name}:{count}" for name, count in sorted(hits.items()))
            print(f"{word}\t{sum(hits.values())}\t{detail}")
    print(
        f"# {len(words)} words, {len(texts)} formal texts ({total_chars:,} characters), {len(hit_words)} words occur",
        file=sys.stderr,
    )
    return 1 if hit_words else 0


if __name__ == "__main__":
    sys.exit(main())
