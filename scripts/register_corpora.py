"""What the two register scripts share (derive_register_lexicon.py, train_register_model.py): the
public corpora both read, the held-back fifth, and the readers of the informal kinds both use."""

from __future__ import annotations

import csv
import hashlib
import html
import re
from pathlib import Path

_NLP_CORPUS = ("SophonPlus/ChineseNlpCorpus", "a0b781d72158bde242c0626c9e354d2b328865ff")
_DIALOG_CORPUS = ("candlewill/Dialog_Corpus", "a263af977a83a243d5e8e60b5ba9696e0e6347fa")

# kind -> (repository, commit, path in it, file name in CORPORA_DIR)
REVIEWS = [
    (*_NLP_CORPUS, "datasets/waimai_10k/waimai_10k.csv", "waimai.csv"),
    (*_NLP_CORPUS, "datasets/ChnSentiCorp_htl_all/ChnSentiCorp_htl_all.csv", "hotel.csv"),
    (
        *_NLP_CORPUS,
        "datasets/online_shopping_10_cats/online_shopping_10_cats.zip (unzipped)",
        "online_shopping_10_cats.csv",
    ),
]
CHAT = [("502ping/RetrievalBased_Chatbot", "07a1eaae0683dd0f6b31682ab2cf2c6c6733b413", "data_Q.txt", "chat_q.txt")]
PEOPLES_DAILY = (
    "zjy-ucas/ChineseNER",
    "48e1007e60194c13377f8ce612c505d484b18c7d",
    "data/example.dev + data/example.test (first column joined, one sentence a line)",
    "pd.txt",
)

# Messages with traditional-only characters are mostly Cantonese: not the mainland register.
TRADITIONAL = re.compile("[們個說這會來時麼為對還過嗎黎喇咗係唔嘅佢冇啲睇]")


def sms_source(described: str) -> tuple[str, str, str, str]:
    return (*_DIALOG_CORPUS, described, "smsCorpus_zh_2015.03.09.xml")


def held_back(text: str) -> bool:
    """One document in five (by a hash of its text), never counted or trained on: dev2.yaml's source."""
    return hashlib.sha1(text.encode("utf-8")).digest()[0] < 52


def informal_kinds(corpora: Path) -> dict[str, list[str]]:
    """Reviews (each topic a kind of its own), SMS (mainland messages) and chat prompts, raw."""
    kinds: dict[str, list[str]] = {}
    for name in ("waimai.csv", "hotel.csv", "online_shopping_10_cats.csv"):
        with (corpora / name).open(encoding="utf-8-sig") as f:
            for r in csv.DictReader(f):
                kinds.setdefault("reviews:" + (r.get("cat") or name.removesuffix(".csv")), []).append(r["review"] or "")
    sms = (corpora / "smsCorpus_zh_2015.03.09.xml").read_text(encoding="utf-8")
    kinds["sms"] = [html.unescape(m) for m in re.findall(r"<text>([^<]*)</text>", sms) if not TRADITIONAL.search(m)]
    kinds["chat"] = [line.strip().replace(" ", "") for line in (corpora / "chat_q.txt").open(encoding="utf-8-sig")]
    return kinds
