"""Derive the spoken lexicon of the register rules (assistant/check/rules/register_lexicon.yaml)
from corpora, instead of listing spoken words by hand (issue 12, part 2).

    .venv/bin/python scripts/derive_register_lexicon.py CORPORA_DIR          # writes the YAML
    .venv/bin/python scripts/derive_register_lexicon.py CORPORA_DIR --show    # prints, writes nothing

A word is kept when real informal Chinese uses it far more than formal written Chinese does, in
more than one kind of informal text (so that topic words of one kind, 外卖 or 房间, fall out):

  informal  reviews     SophonPlus/ChineseNlpCorpus: waimai_10k.csv, ChnSentiCorp_htl_all.csv,
                        online_shopping_10_cats.csv (food delivery, hotel and shop reviews)
            subtitles   aceimnorstuvwxz/dgk_lost_conv: the Chinese subtitle dialogue (*.conv)
            sms         candlewill/Dialog_Corpus: the NUS SMS corpus's Chinese messages (mainland
                        ones: messages with traditional-only characters, mostly Cantonese, are left out)
            chat        502ping/RetrievalBased_Chatbot: data_Q.txt (chatbot prompts people typed)
  formal    news        zjy-ucas/ChineseNER: data/example.dev + example.test (People's Daily, 1998)
            office      this project's knowledge/ (past reports, policies: 公文 written for the demo)

The corpora are not in the repository (third-party data, ~45 MB); get them with git from the
commits in SOURCES and put the files named there (the last field) into CORPORA_DIR:
  waimai.csv, hotel.csv          the CSV files as they are
  online_shopping_10_cats.csv    unzip online_shopping_10_cats.zip
  lost.conv                      every all/*.conv file of dgk_lost_conv, concatenated
  smsCorpus_zh_2015.03.09.xml    unzip smsCorpus_zh_xml_2015.03.09.zip
  chat_q.txt                     data_Q.txt as it is
  pd.txt                         example.dev then example.test: the first column of each line
                                 joined, one sentence a line (blank lines end a sentence) One document in five of each
informal corpus (by a hash of its text) is held back and never counted: evals/register/dev2.yaml
takes its spoken units from that fifth. evals/style/ and evals/register/published.yaml (the
false-alarm sets) and evals/grounding/ are not read, so the false alarms measured there stay honest.

Words are jieba tokens without HMM (the dictionary's words, the same segmentation
check/register.py uses), two characters or more, of the parts of speech that carry register
(adverbs, verbs, adjectives, pronouns, idioms and set phrases, particles, interjections); nouns,
names, numbers and time words are topic, not register, and are left out.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import sys
from collections import Counter
from pathlib import Path

import yaml
from register_corpora import CHAT, PEOPLES_DAILY, REVIEWS, held_back, informal_kinds, sms_source

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assistant" / "check" / "rules" / "register_lexicon.yaml"

SOURCES = {
    "reviews": REVIEWS,
    "subtitles": [
        (
            "aceimnorstuvwxz/dgk_lost_conv",
            "e90f8c67d12a10235959abae4c3ba134e3e51853",
            "all/*.conv (concatenated)",
            "lost.conv",
        ),
    ],
    "sms": [sms_source("smsCorpus_zh_xml_2015.03.09.zip (NUS SMS Corpus, Chinese part; unzipped)")],
    "chat": CHAT,
    "news": [PEOPLES_DAILY],
}
CHARS_PER_KIND = 600_000  # enough for stable counts; keeps the run under a minute
# Parts of speech (jieba's dictionary tags) that carry register rather than topic; "new" is a word
# jieba's HMM joined that its dictionary lacks (靠谱, 给力).
KEEP_POS = {"d", "v", "a", "ad", "vd", "r", "l", "i", "y", "e", "z", "c", "u", "an", "o", "vi", "vq", "new"}
MIN_KINDS = 6  # a register word is used whatever the topic: in this many informal kinds (of 15)
MIN_COUNT = 2  # occurrences that make a word "used" in a kind
MIN_RATIO = 15.0  # (informal rate per million + 1) / (formal rate per million + 1)
MAX_FORMAL_PER_MILLION = 6.0
# A derived word is an error (not a warning) when formal text never has it and it is used across
# most informal kinds: no formal reading to mistake it for.
ERROR_MIN_KINDS = 10
REVIEW = ROOT / "evals" / "register" / "lexicon_review.yaml"
# Characters only traditional script uses (們 個 說 這 會 …): such SMS messages are mostly Cantonese.
HAN = re.compile(r"^[\u4e00-\u9fff]{2,5}$")


def documents(corpora: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Informal documents by kind (each review topic, subtitles, SMS, chat) and the formal documents."""
    common = informal_kinds(corpora)
    subtitles: list[str] = []
    turn: list[str] = []
    for line in (corpora / "lost.conv").open(encoding="utf-8", errors="ignore"):
        if line.startswith("E"):
            if turn:
                subtitles.append(" ".join(turn))
            turn = []
        elif line.startswith("M "):
            turn.append(line[2:].strip())
    # the order the lexicon was derived in: reviews by topic, subtitles, chat, SMS
    kinds = {k: v for k, v in common.items() if k.startswith("reviews:")}
    kinds |= {"subtitles": subtitles, "chat": common["chat"], "sms": common["sms"]}
    kinds = {k: [d for d in v if d and not held_back(d)] for k, v in kinds.items()}
    formal = (corpora / "pd.txt").read_text(encoding="utf-8").splitlines()
    formal += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "knowledge").rglob("*.md"))]
    return kinds, formal


def count(texts: list[str], limit: int) -> tuple[Counter, int]:
    import jieba

    words: Counter = Counter()
    chars = 0
    for t in sorted(texts, key=lambda t: hashlib.sha1(t.encode("utf-8")).digest()):
        if chars >= limit:
            break
        chars += len(t)
        words.update(w for w in jieba.lcut(t) if HAN.match(w))
    return words, chars


def derive(corpora: Path) -> dict:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    tags = jieba.posseg.dt.word_tag_tab
    kinds, formal_docs = documents(corpora)
    counts, sizes = {}, {}
    for k, docs in kinds.items():
        counts[k], sizes[k] = count(docs, CHARS_PER_KIND)
    formal, formal_chars = count(formal_docs, 10**9)
    informal = sum(counts.values(), Counter())
    informal_chars = sum(sizes.values())

    def rate(n: int, chars: int) -> float:
        return n * 1_000_000 / chars

    review = yaml.safe_load(REVIEW.read_text(encoding="utf-8"))
    excluded = {w for words in review["exclude"].values() for w in words}
    rescued, persons, suggest = set(review["rescue"]), set(review["persons"]), review.get("suggest") or {}
    official = set(review.get("official_use") or [])  # published official prose uses them: a warning at most
    words, dropped = [], []
    for w, n in informal.items():
        pos = tags.get(w, "new")
        if pos not in KEEP_POS and w not in rescued:
            continue
        f = rate(formal[w], formal_chars)
        ratio = (rate(n, informal_chars) + 1) / (f + 1)
        used_in = sorted(k for k in counts if counts[k][w] >= MIN_COUNT)
        if f > MAX_FORMAL_PER_MILLION or ratio < MIN_RATIO or len(used_in) < MIN_KINDS:
            continue
        if w in excluded:
            dropped.append(w)
            continue
        words.append(
            {
                "word": w,
                "class": "R2" if w in persons else "R1",
                "severity": "error"
                if formal[w] == 0 and len(used_in) >= ERROR_MIN_KINDS and w not in official
                else "warning",
                **({"suggestion": suggest[w]} if w in suggest else {}),
                "pos": pos,
                "score": round(math.log(ratio), 2),
                "kinds": len(used_in),
                "informal": n,
                "formal": formal[w],
            }
        )
    words.sort(key=lambda e: (-e["score"], e["word"]))
    sizes["formal"] = formal_chars
    kept = {e["word"] for e in words}
    return {"sizes": sizes, "words": words, "excluded": len(dropped), "rescue_failed": sorted(rescued - kept)}


def write(result: dict) -> None:
    head = [
        "# Spoken lexicon of the register rules, DERIVED, do not edit by hand:",
        "#   .venv/bin/python scripts/derive_register_lexicon.py CORPORA_DIR   (the script says how)",
        "# check/register.py reads it (R1 口语词, R2 口语称谓); a reader's decisions about candidates are",
        "# in evals/register/lexicon_review.yaml; an office accepts a word in its terms file (允许用语).",
        "#",
        "# A word is here when, as a jieba word (HMM on) of a register-bearing part of speech, it is",
        f"# at least {MIN_RATIO:g} times more frequent (per million characters, +1 smoothed) in informal text than in",
        f"# formal text (at most {MAX_FORMAL_PER_MILLION:g} per million there), and used ({MIN_COUNT}+ times) in {MIN_KINDS} or more of the",
        "# 15 informal kinds (12 review topics, subtitles, SMS, chat): a register word is used whatever the topic.",
        "# Sources (repository, commit, file):",
    ]
    for g, rows in SOURCES.items():
        for repo, commit, path, _ in rows:
            head.append(f"#   {g:9} {repo}@{commit[:12]} {path}")
    head.append("#   office    this project's knowledge/*.md")
    head.append("# Characters counted: " + ", ".join(f"{g} {n:,}" for g, n in result["sizes"].items()))
    head.append(f"# Candidates a reader excluded (evals/register/lexicon_review.yaml): {result['excluded']}.")
    head.append("# score: log of the ratio; kinds: informal kinds using it; informal/formal: raw counts.")
    head.append(
        f"# severity: error when formal text never has it and {ERROR_MIN_KINDS}+ kinds use it, else warning; a warning"
    )
    head.append("# too when published official prose uses it (lexicon_review.yaml, official_use).")
    body = yaml.safe_dump(
        {"words": result["words"]},
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,
        width=200,
    )
    OUT.write_text("\n".join(head) + "\n" + body, encoding="utf-8")


def main(argv: list[str]) -> int:
    if not argv or not Path(argv[0]).is_dir():
        print(__doc__)
        return 2
    result = derive(Path(argv[0]))
    if "--show" in argv:
        for e in result["words"]:
            print(e["word"], e["class"], e["severity"], e["pos"], e["score"], e["kinds"], e["informal"], e["formal"])
        print(len(result["words"]), "words", result["excluded"], "excluded", "rescue failed:", result["rescue_failed"])
        print(result["sizes"])
        return 0
    write(result)
    print(f"wrote {OUT} ({len(result['words'])} words)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
