"""Derive spoken words for the register rules from a dictionary's register labels (issue 12, part 2),
and measure what they would add. An experiment: the words are NOT in the default rules (the
measured gain was too small; evals/register/sources.md, "A dictionary's register labels").

    .venv/bin/python scripts/derive_register_dictionary.py CEDICT PD_TXT --show            # the words
    .venv/bin/python scripts/derive_register_dictionary.py CEDICT PD_TXT --out F.yaml      # as YAML
    .venv/bin/python scripts/derive_register_dictionary.py CEDICT PD_TXT --measure         # the evals
        options: --senses=all|first|any (which senses must carry a label; default all)
                 --max-freq=N (jieba dictionary count above which a word is dropped; default 500)

--measure runs evals/register_quality.py and evals/style_quality.py (findings to a temporary file)
with the derived words added to the spoken lexicon for this process only, as warnings.

Why a dictionary: the lexicon of scripts/derive_register_lexicon.py only knows the words its
informal corpora (reviews, subtitles, chat) happen to use; a lexicographer has marked register on
every entry, independently of this project's eval sets. CC-CEDICT glosses entries with
"(coll.)", "(dialect)", "(slang)", "(Internet slang)", "(vulgar)", "(derog.)"...

CEDICT   CC-CEDICT in its "ts" text format (cedict_ts.u8, one entry a line: traditional, simplified,
         [pinyin], /sense/sense/). Licence CC BY-SA 4.0 (MDBG, https://cc-cedict.org/). Not in the
         repository (9.7 MB, third-party): download cedict_1_0_ts_utf-8_mdbg.zip from
         https://www.mdbg.net/chinese/dictionary?page=cc-cedict and unzip it, or take the copy this
         file was derived from (SOURCE below) with git and unzip it.
PD_TXT   People's Daily 1998 sentences, one a line: the pd.txt that scripts/derive_register_lexicon.py
         describes (zjy-ucas/ChineseNER data/example.dev + example.test, first column joined).

A CC-CEDICT entry becomes a finding word when:
  * every sense of it carries a register label (LABELS; --senses=first/any loosen this), so a word
    with a formal sense too (e.g. a verb with one "(coll.)" sense among plain ones) is left out, as
    is one with a second, unlabelled entry; senses that only point elsewhere ("also pr. ...",
    "see ...") do not count;
  * it is not only regional (Taiwan, Hong Kong, Cantonese, Minnan: not the mainland register);
  * its simplified form is 2–8 Chinese characters (single characters are too ambiguous);
  * formal text never has it as whole words where check/register.py would match it: People's Daily
    and this project's knowledge/ (segmented by jieba exactly as the check segments a clause);
  * jieba's dictionary frequency (counts from a general, mostly written corpus) is at most
    MAX_JIEBA_FREQ: a word that common is read in formal prose too;
  * it is not a naming word (jieba's dictionary tags it a noun, place, time, number or name, or the
    gloss names a thing): names and topics are not register, except nouns for people (老哥, 娘们),
    which are R2.

Classes (as the checker would report them): R2 spoken nouns and pronouns for people (a person
gloss, or a pronoun); R3 spoken structures (sayings, idioms and set phrases of four characters or more); R1 the rest (verbs,
adverbs, adjectives). All findings are warnings: a dictionary label is about the word, not the
sentence. Where a sense points at another entry that carries no register label ("variant of 这么",
"same as 什么"), that entry is the formal suggestion.

evals/ (the eval sets and the false-alarm corpora) is not read, so the measured false alarms stay
honest.
"""

from __future__ import annotations

import logging
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCE = (
    "prodoxx/chinese-trainer",
    "848cdb3cfeb7f90a2bb312012b504ff2c7f89f63",
    "data/cedict_1_0_ts_utf-8_mdbg.zip (unzipped: cedict_ts.u8, CC-CEDICT of 2025-07-25, 123,557 entries)",
)
# Leading labels of a sense that mark register, by the kind written into the YAML.
LABELS = {
    "coll.": "coll",
    "colloquial": "coll",
    "informal": "coll",
    "spoken": "coll",
    "dialect": "dialect",
    "northern dialect": "dialect",
    "northern dialects": "dialect",
    "Beijing dialect": "dialect",
    "northeast dialect": "dialect",
    "Northeastern dialect": "dialect",
    "north China dialect": "dialect",
    "dialectal": "dialect",
    "slang": "slang",
    "Internet slang": "slang",
    "vulgar": "vulgar",
    "derog.": "derog",
    "derogatory": "derog",
    "usually derog.": "derog",
    "often derog.": "derog",
    "usually derogatory": "derog",
}
# Labels of another region's usage: not the mainland register a drafter's notes have.
REGIONAL = {"Tw", "HK", "Cantonese", "Minnan", "Taiwanese", "Wu dialect", "Minnan dialect", "HK dialect"}
MAX_JIEBA_FREQ = 500  # jieba's dict.txt counts: 搞定 ~ 300, 马上 ~ 9,000
MAX_LEN = 8
HAN = re.compile(rf"^[\u4e00-\u9fff]{{2,{MAX_LEN}}}$")
# jieba tags of naming words: nouns, places, times, numbers, measure words, names, organisations.
NAMING = ("n", "s", "t", "m", "q", "f", "nr", "ns", "nt", "nz")
# A sense that only points elsewhere: it carries no register of its own.
POINTER = re.compile(r"^(also pr\.|also written|see |see also|abbr\. for|variant of|old variant|used in |CL:|pr\. )")
# Entries a sense refers to: 繁|简[pin1 yin1] or 简[pin1 yin1].
REFERENCE = re.compile(r"(?:[^\s|\[\]/]+\|)?([\u4e00-\u9fff]+)\[[^\]]+\]")
# A gloss for a person (R2): English words that name people.
PERSON = re.compile(
    r"\b(man|men|woman|women|guy|guys|fellow|chap|person|people|folks?|kid|kids|child|children|boy|girl|"
    r"father|mother|dad|mom|mum|wife|husband|son|daughter|brother|sister|uncle|aunt|auntie|grandpa|granny|"
    r"grandmother|grandfather|grandson|buddy|pal|friend|boss|sb who|someone who|one who|bloke|lad|lass|"
    r"baby|old-timer|youngster|elder|wench|bastard|idiot|fool|jerk|gentleman|lady|ladies|mistress|"
    r"mother-in-law|father-in-law|oneself|everyone|everybody|all of us)\b",
    re.IGNORECASE,
)
# Glosses of verbs, adverbs, adjectives, interjections: register-bearing even when jieba lacks the word.
NON_NAMING = re.compile(
    r"^(to |\(of |\(onom\.|\(interj|\(intensifier|\(particle|\(adverb|\(used |very |really |extremely |"
    r"quite |so |too |just |only |not |no |all |how |what |why |where |who |whatever|"
    r"[a-z]+ly\b|[a-z]+ed\b|[a-z]+ing\b|[a-z]+ful\b|[a-z]+ous\b|[a-z]+ish\b|[a-z]+y\b)"
)
# The four-or-more-character entries CC-CEDICT tags as sayings: structures (R3).
SAYING = {"idiom", "saying", "proverb", "lit. and fig.", "fig."}
R3_SUGGESTION = "改用书面句式，直接陈述事实"


def entries(path: Path):
    """(simplified, senses) of every entry of a CC-CEDICT text file."""
    for line in path.open(encoding="utf-8"):
        if line.startswith("#"):
            continue
        m = re.match(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$", line)
        if m:
            yield m.group(2), [s.strip() for s in m.group(4).split("/") if s.strip()]


def leading_labels(sense: str) -> tuple[list[str], str]:
    """The parenthesised labels a sense starts with, and the rest of it."""
    labels = []
    while True:
        m = re.match(r"^\(([^()]*)\)\s*", sense)
        if not m:
            return labels, sense
        for part in m.group(1).split(","):
            labels.append(part.strip())
        sense = sense[m.end() :]


def register_of(senses: list[str], mode: str = "all") -> tuple[str, list[str], list[str]] | None:
    """(register kind, all labels, glosses) when the senses carry a register label (mode "all": every
    sense; "first": the first sense; "any": some sense) and no sense is only regional, else None."""
    kinds: list[str] = []
    labels: list[str] = []
    glosses: list[str] = []
    plain = 0
    for sense in senses:
        ls, rest = leading_labels(sense)
        if not ls and POINTER.match(rest):
            continue
        if any(label in REGIONAL for label in ls):
            return None
        kind = next((LABELS[label] for label in ls if label in LABELS), None)
        if kind is None:
            if mode == "all" or (mode == "first" and not kinds):
                return None
            plain += 1
            continue
        kinds.append(kind)
        labels.extend(ls)
        glosses.append(rest)
    if not kinds:
        return None
    return Counter(kinds).most_common(1)[0][0], labels, glosses


def formal_hits(words: set[str], texts: list[str]) -> Counter:
    """How often each word stands as whole jieba words (HMM on, by clause, as check/register.py reads
    it) in the formal texts: the false alarms it would raise there."""
    import jieba

    clause = re.compile(r"[^，。；：！？、,.;:!?\s“”‘’《》（）()【】]+")
    by_first: dict[str, list[str]] = {}
    for w in words:
        by_first.setdefault(w[0], []).append(w)
    hits: Counter = Counter()
    for text in texts:
        for m in clause.finditer(text):
            c = m.group()
            if not any(ch in by_first for ch in c):
                continue
            bounds, at = {0}, 0
            for tok in jieba.lcut(c):
                at += len(tok)
                bounds.add(at)
            for i, ch in enumerate(c):
                if i not in bounds:
                    continue
                for w in by_first.get(ch, ()):
                    if c.startswith(w, i) and i + len(w) in bounds:
                        hits[w] += 1
    return hits


def suggestion_of(glosses: list[str], marked: set[str]) -> str | None:
    """An entry a sense points at ("variant of 这么[zhe4 me5]") that carries no register label."""
    for g in glosses:
        for ref in REFERENCE.findall(g):
            if len(ref) >= 2 and ref not in marked:
                return ref
    return None


def derive(cedict: Path, pd: Path, mode: str = "all", max_freq: int = MAX_JIEBA_FREQ) -> dict:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    freq = jieba.dt.FREQ
    tags = jieba.posseg.dt.word_tag_tab
    found: dict[str, tuple[str, list[str], list[str]]] = {}
    marked: set[str] = set()
    unmarked: set[str] = set()
    for simp, senses in entries(cedict):
        reg = register_of(senses, mode)
        if reg is None:
            unmarked.add(simp)
            continue
        marked.add(simp)
        if HAN.match(simp) and simp not in found:
            found[simp] = reg
    # a word with another, unmarked entry (another reading, another sense) is not only spoken
    candidates = {w: r for w, r in found.items() if w not in unmarked}
    formal = pd.read_text(encoding="utf-8").splitlines()
    formal += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "knowledge").rglob("*.md"))]
    hits = formal_hits(set(candidates), formal)
    words, dropped = [], Counter()
    for w, (kind, labels, glosses) in sorted(candidates.items()):
        gloss = "; ".join(glosses)
        pos = tags.get(w, "")
        # a person noun: the first sense names people within its first words and is not a verb
        first = glosses[0]
        person = pos == "r" or (not first.startswith("to ") and bool(PERSON.search(" ".join(first.split()[:4]))))
        if hits[w]:
            dropped["formal text has it"] += 1
            continue
        if freq.get(w, 0) > max_freq:
            dropped[f"jieba frequency > {max_freq}"] += 1
            continue
        naming = pos.startswith(NAMING) if pos else not any(NON_NAMING.match(g) for g in glosses)
        if naming and not person:
            dropped["naming word"] += 1
            continue
        if person:
            cls = "R2"
        elif len(w) >= 4 and (SAYING & set(labels) or not pos):
            cls = "R3"
        else:
            cls = "R1"
        sug = suggestion_of(glosses, marked)
        words.append(
            {
                "word": w,
                "class": cls,
                "severity": "warning",
                # check/register.py has a generic suggestion for R1 and R2 only
                **({"suggestion": f"如“{sug}”"} if sug else {"suggestion": R3_SUGGESTION} if cls == "R3" else {}),
                "label": kind,
                "pos": pos or "-",
                "jieba": freq.get(w, 0),
                "gloss": gloss[:80],
            }
        )
    sizes = {"cedict marked": len(found), "candidates": len(candidates), "formal chars": sum(map(len, formal))}
    return {"words": words, "dropped": dict(dropped), "sizes": sizes}


def write(result: dict, out: Path) -> None:
    head = [
        "# Spoken words from a dictionary's register labels, DERIVED by",
        "#   scripts/derive_register_dictionary.py CEDICT PD_TXT (the script says how); not read by the checker.",
        "# Source: CC-CEDICT (https://cc-cedict.org/, MDBG), licence CC BY-SA 4.0",
        "#   (https://creativecommons.org/licenses/by-sa/4.0/); the words and the shortened English glosses",
        "#   below are from it, so this file is shared under the same licence.",
        f"#   copy read: {SOURCE[0]}@{SOURCE[1][:12]} {SOURCE[2]}",
        "# Counts: " + ", ".join(f"{k} {v:,}" for k, v in result["sizes"].items()),
        "# Dropped: " + ", ".join(f"{k} {v:,}" for k, v in result["dropped"].items()),
        "# label: the dictionary's register label; pos: jieba's tag (- where jieba lacks the word);",
        "# jieba: jieba's dictionary count; gloss: CC-CEDICT's English, shortened.",
    ]
    body = yaml.safe_dump(
        {"words": result["words"]}, allow_unicode=True, sort_keys=False, default_flow_style=None, width=240
    )
    out.write_text("\n".join(head) + "\n" + body, encoding="utf-8")


def measure(words: list[dict]) -> None:
    """The register and style evals with `words` added to the spoken lexicon, in this process only."""
    import tempfile

    sys.path.insert(0, str(ROOT))
    from assistant.check import register
    from evals import register_quality, style_quality

    load = register.load_rules

    def with_dictionary(name: str) -> dict:
        data = load(name)
        if name == "register_lexicon.yaml":
            known = {e["word"] for e in data["words"]}
            data = {**data, "words": data["words"] + [e for e in words if e["word"] not in known]}
        return data

    register.load_rules = with_dictionary  # type: ignore[assignment]
    register.spoken_lexicon.cache_clear()
    register._lexicon_starts.cache_clear()
    print(f"== evals.register_quality with {len(words)} dictionary words (warnings)")
    register_quality.main([])
    with tempfile.TemporaryDirectory() as tmp:
        print("== evals.style_quality")
        style_quality.main(["--findings", str(Path(tmp) / "findings.md")])


def main(argv: list[str]) -> int:
    paths = [a for a in argv if not a.startswith("--")]
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    if len(paths) != 2 or not all(Path(p).is_file() for p in paths):
        print(__doc__)
        return 2
    result = derive(
        Path(paths[0]), Path(paths[1]), opts.get("senses", "all"), int(opts.get("max-freq", MAX_JIEBA_FREQ))
    )
    if "--show" in argv:
        for e in result["words"]:
            print(e["word"], e["class"], e["label"], e["pos"], e["jieba"], e.get("suggestion", ""), e["gloss"])
    print(len(result["words"]), "words;", "dropped:", result["dropped"], result["sizes"])
    if "out" in opts:
        write(result, Path(opts["out"]))
        print(f"wrote {opts['out']}")
    if "--measure" in argv:
        measure(result["words"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
