"""Register (语体) rules: the spoken wording and notes to self that a drafter's notes leave behind.

The rules are data (rules/register.yaml); this module only runs them and decides what is not a
finding. Four classes, one rule id each:

    R1 口语词      spoken verbs, degree adverbs, particles (啥, 蛮好, 特别特别, 搞定)     error*
    R2 口语称谓    spoken pronouns and nouns (俺们, 人家, 哥几个)                      error
    R3 口语句式    spoken structures (…那一块, 386名代表里, 在省里, 基本靠转发)          warning*
    R4 起草备注    notes to self (待确认, 先空着, 数还没统计, 年底再定)                 error
    R5 口语色彩    a stretch a statistical model reads as spoken, no rule listing it   warning, opt-in
                   (a bracketed aside: always)

(*) the class default; an entry whose wording has formal look-alikes is a warning (发稿, 估计)
and an R3 entry with no formal reading is an error (那一块, 一大半): the YAML says which.

Besides the hand-written patterns, R1 and R2 read a spoken lexicon derived from corpora
(rules/register_lexicon.yaml, written by scripts/derive_register_lexicon.py: words far more
frequent in reviews, subtitles and chat than in formal prose, across many topics). A lexicon word
is a finding only where jieba's segmentation of its clause has it as whole words (真心 in
真心不容易, not in 真心实意), so formal compounds that contain it are not read as it. Regional and
internet words collected from published glossaries (rules/register_regional.yaml,
scripts/check_register_regional.py checks them against formal prose) are read the same way, as
warnings.

R5 is for the spoken wording nobody listed: check/register_model.py scores every window of the
text with a logistic regression over character n-grams (informal against formal corpora,
scripts/train_register_model.py) and R5 is a warning on the stretches above its threshold that no
R1–R4 finding already covers. It is never an error: a model can be wrong, a reader decides. It
runs on the whole text only where the office's terms file says ``口语统计核对: true``; inside a
bracketed aside it always runs, and a spoken stretch there marks the whole aside as a remark.

Not findings: text inside “” quotes and 《》 titles (R1–R3: quoted speech and names may be
spoken), anything inside a 【待补充：…】/【待核实：…】 placeholder (the official markers; any other
【…】 note is checked like the text around it), and any wording the office accepts in its terms
file (`允许用语:`; see check/terms.py).
`merge_register()` is how style.lint_style() adds these findings; words an L5/L7 finding already
covers are reported once. `lint_register()` alone is what evals/register_quality.py measures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.check.anchors import AnchoredPattern, CharIndex
from assistant.check.reading import RULES_DIR, load_rules
from assistant.check.register_model import informal_spans, load_model, official_prose, span_score
from assistant.check.result import StyleFinding
from assistant.check.terms import OfficeTerms
from assistant.core.segment import get_jieba
from assistant.gongwen import PLACEHOLDER

RULE_IDS = ("R1", "R2", "R3", "R4", "R5")
_MODEL_MESSAGE = "“{w}”口语色彩较重（按语料统计判断），请改为书面说法"
_MODEL_SUGGESTION = "请改为书面说法（或在本单位用语表的“允许用语”中接受这一说法）"
# A bracketed aside of up to 80 characters: in 公文 a bracket holds names, scopes, dates and figures,
# and a spoken remark there is a drafter's or reader's note; R5 reads these even where it is off.
_ASIDE = re.compile(r"[（(][^（）()\n]{2,80}[）)]")
_ASIDE_MESSAGE = "括号里的“{w}”口语色彩较重（按语料统计判断），像是起草或审阅时的插话"
_ASIDE_SUGGESTION = "删去这段插话，或改为书面的说明"
# Style rules that already report some spoken words (L5 咱们/俺, L7 搞定/啥): those words are
# reported once, by the older rule.
_ALREADY = ("L5", "L7")
_QUOTED = re.compile(r"“[^”\n]*”|‘[^’\n]*’|《[^》\n]*》")
# every rule that reports spoken wording or a note to self: a model's reading of the wording
# (drafting/review.py) is not reported again where one of these already reports
SPOKEN_RULES = frozenset(RULE_IDS + _ALREADY)


@dataclass(frozen=True)
class RegisterRule:
    rule: str  # R1…R4
    name: str  # the class name shown to the user
    severity: str
    pattern: re.Pattern
    suggestion: str | None
    message: str | None
    then: tuple[str, ...] = ()  # the next word's jieba part of speech must start with one of these
    words: bool = False  # the match must begin and end on jieba word boundaries of its clause
    # with words: it may also begin or end inside a word jieba guessed (one not in its dictionary):
    # a dialect word jieba does not know is often merged with its neighbour (嘎哈呢), while a
    # dictionary word is never cut (司维 is not read in 公司维修)
    guessed: bool = False


@lru_cache(maxsize=1)
def register_rules() -> tuple[RegisterRule, ...]:
    """The rules of rules/register.yaml, in file order."""
    data = load_rules("register.yaml")
    classes = data["classes"]
    out = []
    for e in data["rules"]:
        cls = classes[e["class"]]
        out.append(
            RegisterRule(
                rule=e["class"],
                name=cls["name"],
                severity=e.get("severity", cls["severity"]),
                pattern=re.compile(e["pattern"]),
                suggestion=e.get("suggestion"),
                message=e.get("message"),
                then=tuple(e.get("then") or ()),
                words=bool(e.get("words")),
                guessed=bool(e.get("guessed")),
            )
        )
    return tuple(out)


@lru_cache(maxsize=1)
def register_classes() -> dict[str, tuple[str, str, str]]:
    """R1…R4 -> (the class name shown to the user, what the class is, examples), from
    rules/register.yaml: what a model reviewing the wording is told to look for (drafting/review.py)."""
    return {
        cls: (c["name"], c["why"], c.get("examples", "")) for cls, c in load_rules("register.yaml")["classes"].items()
    }


@lru_cache(maxsize=1)
def _anchored_rules() -> tuple[tuple[AnchoredPattern, ...], frozenset[str]]:
    """Each rule's pattern with its anchors, and all their anchor characters (check/anchors.py:
    the rules are scanned only where a match can start, a third of the time)."""
    patterns = tuple(AnchoredPattern(r.pattern) for r in register_rules())
    return patterns, frozenset().union(*(p.chars for p in patterns))


# Where a 歇后语's riddle ends: a dash before its answer (外甥打灯笼——照旧), or a comma or colon when the
# answer follows it (外甥打灯笼，照旧)
_SAYING_BREAK = re.compile(r"——|—|－－|--|─+|[，,：:]")


@lru_cache(maxsize=1)
def xiehouyu() -> dict[str, tuple[str, ...]]:
    """The 歇后语 riddles and their answers (rules/xiehouyu.txt, written by scripts/take_xiehouyu.py
    from a dictionary's 13,000 sayings)."""
    out: dict[str, tuple[str, ...]] = {}
    for line in (RULES_DIR / "xiehouyu.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            riddle, _, answers = line.partition("\t")
            out[riddle] = tuple(a for a in answers.split("|") if a)
    return out


@lru_cache(maxsize=1)
def _riddle_endings() -> frozenset[str]:
    """The last two characters of every riddle: a clause break after any other pair ends none."""
    return frozenset(r[-2:] for r in xiehouyu())


def _found_rule(cls: str, message: str, suggestion: str = "") -> RegisterRule:
    """A warning of class `cls` that code finds, not a pattern (a 歇后语, a doubled verb, a name)."""
    return RegisterRule(
        rule=cls,
        name=load_rules("register.yaml")["classes"][cls]["name"],
        severity="warning",
        pattern=re.compile("(?!)"),
        suggestion=suggestion,
        message=message,
    )


@lru_cache(maxsize=1)
def _saying_rule() -> RegisterRule:
    """The R3 rule a 歇后语 is reported under (found by _saying_matches)."""
    return _found_rule("R3", "歇后语“{w}”是说话的口吻，汇报宜直接写明意思")


def _saying_matches(text: str) -> list[tuple[RegisterRule, int, int]]:
    """歇后语 in `text`: a dictionary riddle before a dash, or before a comma or colon and its
    answer. Only the riddle's end is looked up (a few per clause break), not every position."""
    sayings, endings = xiehouyu(), _riddle_endings()
    out: list[tuple[RegisterRule, int, int]] = []
    for m in _SAYING_BREAK.finditer(text):
        if text[m.start() - 2 : m.start()] not in endings:
            continue
        dash = m.group() not in "，,：:"
        for n in range(12, 3, -1):
            riddle = text[max(0, m.start() - n) : m.start()]
            if len(riddle) == n and riddle in sayings:
                answer = next((a for a in sayings[riddle] if text.startswith(a, m.end())), "")
                if answer or dash:
                    out.append((_saying_rule(), m.start() - n, m.end() + len(answer)))
                break
    return out


# A verb said twice (搞搞变通, 聊聊, 孝敬孝敬, 捋一捋): how people talk a task down, softening it;
# a report states the task (适当变通, 研究). The shapes: AA, A一A and ABAB.
_DOUBLED = re.compile(r"([\u4e00-\u9fff])(?:一)?\1|([\u4e00-\u9fff]{2})\2")


@lru_cache(maxsize=1)
def _doubled_in_official_prose() -> frozenset[str]:
    """Every AA, A一A and ABAB string published official prose (register_model.official_prose) has:
    the forms it uses (层层, 处处, 谈谈, 讲一讲) and the pairs two words make (人民民主), never reported."""
    prose = official_prose()
    return frozenset(m.group() for m in _DOUBLED.finditer(prose)) | frozenset(
        m.group() for m in re.finditer(r"([\u4e00-\u9fff])\1", prose)
    )


@lru_cache(maxsize=1)
def _doubling_rule() -> RegisterRule:
    """The R1 rule a doubled verb is reported under (found by _doubled_verbs, not by a pattern)."""
    return _found_rule("R1", "口语的动词重叠“{w}”，汇报宜直接写做什么（如“研究”“适当变通”）")


def _ends_in_word(text: str, end: int, words: dict[int, str], hi: int) -> bool:
    """Whether the word jieba read across `end` is the doubled verb's last half joined to a word
    of its own (孝敬孝敬老人 read as 孝敬 + 孝敬老人: 老人 is a word), not one word the pair only
    seems to start (发展发展中国家: 中国家 is none)."""
    begin = max((at for at in words if at < end), default=None)
    after = min((at for at in words if at > end), default=hi)
    if begin is None or begin == end:
        return False
    jieba = get_jieba()
    return bool(jieba.dt.FREQ.get(text[end:after]))


def _doubled_verbs(text: str, cache: dict[tuple[int, int], dict[int, str]]) -> list[tuple[RegisterRule, int, int]]:
    """Doubled verbs in `text`: AA, A一A or ABAB where A (AB) is a verb in jieba's dictionary and
    whole jieba words of its clause, neither half of an AABB word (认认真真, 扎扎实实) nor a state
    before 的/地 (鼓鼓的), and a form published official prose does not use."""
    out: list[tuple[RegisterRule, int, int]] = []
    official: frozenset[str] | None = None
    tags: dict[str, str] | None = None
    for m in _DOUBLED.finditer(text):
        start, end = m.span()
        base = m.group(1) or m.group(2)
        if len(base) == 1 and end - start == 2:  # AA: not inside AABB, not a state word before 的/地
            if text[end : end + 1] in ("的", "地") or (
                end + 1 < len(text) and text[end] == text[end + 1] or start >= 2 and text[start - 1] == text[start - 2]
            ):
                continue
        official = official if official is not None else _doubled_in_official_prose()
        if m.group() in official:
            continue
        if tags is None:
            get_jieba()
            import jieba.posseg  # heavy, and only where a doubled verb may be

            tags = jieba.posseg.dt.word_tag_tab
        tag = tags.get(base, "")
        if not (tag == "v" or len(base) == 2 and tag == "vn"):  # 研究研究, 商量商量; not 活活 (vn), 哗哗 (vg)
            continue
        if not tags.get(m.group(), "v").startswith("v"):  # a word of its own that is no verb (泡泡)
            continue
        lo, hi = _clause(text, start, end)
        words = _clause_tags(text, lo, hi, cache)
        # ABAB may end inside a word jieba joined to its last half (孝敬孝敬老人); AA may not (超超临界)
        if start in words and (end in words or end == hi or len(base) == 2 and _ends_in_word(text, end, words, hi)):
            out.append((_doubling_rule(), start, end))
    return out


# A colleague called by given name and title (崇云书记, 志强主任): how people talk about a leader
# they know; a report writes the full name or the post. A given name is a word jieba reads as a
# person's name (HMM on: names are not in its dictionary) whose first character is no common surname
# (a full name with a title, 王勇书记, 李强总理, is formal).
_TITLE = re.compile("书记|主任|局长|区长|县长|市长|镇长|乡长|部长|处长|科长|所长|站长|校长|院长|主席|省长|厅长|秘书长")
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
    "崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤洪温康施葛祁骆"
    "俞倪殷翟滕佟耿柯柴焦鲁庞万向牛左包甘申卫屈项欧司上诸"
)


@lru_cache(maxsize=1)
def _given_name_rule() -> RegisterRule:
    """The R2 rule a given name and title is reported under (found by _given_names, not a pattern)."""
    return _found_rule("R2", "只称名字和职务“{w}”是口头的称呼，宜写全名和职务（如“×××同志”）", "写明姓名和职务")


def _given_names(text: str) -> list[tuple[RegisterRule, int, int]]:
    """Given name + title in `text` (崇云书记): only clauses with a title are segmented."""
    out: list[tuple[RegisterRule, int, int]] = []
    done: set[tuple[int, int]] = set()
    for m in _TITLE.finditer(text):
        lo, hi = _clause(text, m.start(), m.end())
        if (lo, hi) in done or m.start() - lo < 2:
            continue
        done.add((lo, hi))
        get_jieba()
        import jieba.posseg  # heavy, and only in a clause with a title

        words, at = [], lo
        for pair in jieba.posseg.lcut(text[lo:hi]):
            words.append((at, pair.word, pair.flag))
            at += len(pair.word)
        for (start, word, flag), (_, after, _) in zip(words, words[1:]):
            if (
                len(word) == 2
                and flag in ("nr", "nrt", "nrfg")
                and word[0] not in _SURNAMES
                and _TITLE.fullmatch(after)
            ):
                out.append((_given_name_rule(), start, start + 2 + len(after)))
    return out


# A clause for segmentation: the stretch between punctuation marks around a lexicon match.
_CLAUSE_END = re.compile(r"[，。；：！？、,.;:!?\s“”‘’《》（）()【】]")
_GENERIC = {
    "R1": "改用书面说法（如“较为”“明显”“总体”），或写明具体情况",
    "R2": "改称单位、职务或“有关同志”",
}


@lru_cache(maxsize=1)
def spoken_lexicon() -> dict[str, tuple[tuple[str, RegisterRule], ...]]:
    """The derived spoken lexicon (rules/register_lexicon.yaml) and the regional glossary
    (rules/register_regional.yaml): (word, rule) pairs by first character, longest word first."""
    data = load_rules("register_lexicon.yaml")
    classes = load_rules("register.yaml")["classes"]
    by_first: dict[str, list[tuple[str, RegisterRule]]] = {}
    for e in data["words"]:
        word, cls = e["word"], e["class"]
        rule = RegisterRule(
            rule=cls,
            name=classes[cls]["name"],
            severity=e["severity"],
            pattern=re.compile(re.escape(word)),
            suggestion=e.get("suggestion") or _GENERIC[cls],
            message=f"口语“{{w}}”（{classes[cls]['name']}：多见于聊天、评论和对白，公文中罕见），汇报宜用书面语",
        )
        by_first.setdefault(word[0], []).append((word, rule))
    # regional and internet words (rules/register_regional.yaml, from published glossaries): warnings,
    # since an office may use a local word on purpose (it accepts it in 允许用语)
    for e in load_rules("register_regional.yaml")["words"]:
        word, cls, region = e["word"], e["class"], e["region"]
        kind = "网络用语" if region == "网络" else f"{region}方言"
        rule = RegisterRule(
            rule=cls,
            name=classes[cls]["name"],
            severity="warning",
            pattern=re.compile(re.escape(word)),
            suggestion=e.get("suggestion") or _GENERIC[cls],
            message=f"{kind}“{{w}}”（{classes[cls]['name']}），汇报宜用书面语",
            guessed=True,  # none occurs in 3.2 million characters of formal prose, even inside a word
        )
        entries = by_first.setdefault(word[0], [])
        if word not in {w for w, _ in entries}:  # the derived lexicon's entry wins
            entries.append((word, rule))
    return {c: tuple(sorted(ws, key=lambda x: -len(x[0]))) for c, ws in by_first.items()}


@lru_cache(maxsize=1)
def _lexicon_starts() -> re.Pattern[str]:
    """Where a lexicon word may start: one character class of the words' first characters. sre
    skips the positions outside it in C; a trie regex in a lookahead (tried at every position) took
    ~21 ms on a 30,000-character report with 850 words, this ~2 ms with the loop below."""
    return re.compile(f"[{''.join(re.escape(c) for c in sorted(spoken_lexicon()))}]")


_Bounds = dict[tuple[int, int], tuple[set[int], set[int]]]


def _word_bounds(text: str, start: int, end: int, cache: _Bounds, guessed: bool = False) -> bool:
    """Whether text[start:end] begins and ends on jieba word boundaries of its clause (with
    `guessed`: or inside a word jieba guessed, one its dictionary does not hold)."""
    lo, hi = _clause(text, start, end)
    if (lo, hi) not in cache:
        jieba = get_jieba()
        bounds, inside, at = {lo}, set[int](), lo
        for token in jieba.lcut(text[lo:hi]):
            if len(token) > 1 and not jieba.dt.FREQ.get(token):
                inside.update(range(at + 1, at + len(token)))
            at += len(token)
            bounds.add(at)
        cache[(lo, hi)] = (bounds, inside)
    bounds, inside = cache[(lo, hi)]
    return all(at in bounds or (guessed and at in inside) for at in (start, end))


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    lo = start
    while lo > 0 and not _CLAUSE_END.match(text[lo - 1]):
        lo -= 1
    hi = end
    while hi < len(text) and not _CLAUSE_END.match(text[hi]):
        hi += 1
    return lo, hi


def _clause_tags(text: str, lo: int, hi: int, cache: dict[tuple[int, int], dict[int, str]]) -> dict[int, str]:
    """Where each jieba word of the clause text[lo:hi] starts -> its part of speech, once per
    clause. HMM off: 巨慢 is 巨 + 慢, not one guessed word."""
    if (lo, hi) not in cache:
        get_jieba()  # first: jieba imported once, quietly
        import jieba.posseg  # heavy, and only where a rule needs parts of speech

        starts, at = {}, lo
        for pair in jieba.posseg.lcut(text[lo:hi], HMM=False):
            starts[at] = pair.flag
            at += len(pair.word)
        cache[(lo, hi)] = starts
    return cache[(lo, hi)]


def _next_word_is(
    text: str, start: int, end: int, tags: tuple[str, ...], cache: dict[tuple[int, int], dict[int, str]]
) -> bool:
    """Whether text[start:end] is whole jieba words of its clause and the word after it has one of
    the parts of speech `tags` (prefixes of jieba's tags: "a" adjective, "v" verb)."""
    lo, hi = _clause(text, start, end)
    if end >= hi:
        return False
    words = _clause_tags(text, lo, hi, cache)
    tag = words.get(end)
    return start in words and tag is not None and tag.startswith(tags)


# jieba parts of speech of naming words (nouns, places, times, numbers; and the conjunctions between
# them): a span of only these is
# what something is called (网吧, 酒吧), not how it is said; register is in verbs, adverbs, particles.
_NAMING = ("n", "s", "f", "t", "m", "q", "c", "eng", "x")


def _overlapping_words(
    text: str, start: int, end: int, cache: dict[tuple[int, int], dict[int, str]]
) -> list[tuple[int, int, str]]:
    """(start, end, part of speech) of the jieba words of the clause that overlap text[start:end]."""
    lo, hi = _clause(text, start, end)
    words = sorted(_clause_tags(text, lo, hi, cache).items())
    bounds = [(at, words[i + 1][0] if i + 1 < len(words) else hi, tag) for i, (at, tag) in enumerate(words)]
    return [(a, b, tag) for a, b, tag in bounds if a < end and start < b]


def _model_span(
    text: str, start: int, end: int, cache: dict[tuple[int, int], dict[int, str]]
) -> tuple[int, int] | None:
    """The model's span widened to whole jieba words, or None when it is not a finding: only
    naming words (网吧: what a thing is called, not how it is said), or the whole words no longer
    score above the threshold (本面好 is a window's artefact; 基本面好 is formal)."""
    words = _overlapping_words(text, start, end, cache)
    if not words or all(tag.startswith(_NAMING) for _, _, tag in words):
        return None
    start, end = words[0][0], words[-1][1]
    return (start, end) if span_score(text, start, end) > load_model().threshold else None


def _lexicon_matches(text: str) -> list[tuple[RegisterRule, int, int]]:
    """Lexicon words in `text` that stand as whole jieba words (the longest at each position)."""
    lexicon = spoken_lexicon()
    out: list[tuple[RegisterRule, int, int]] = []
    cache: _Bounds = {}
    for m in _lexicon_starts().finditer(text):  # only where some lexicon word may start
        start = m.start()
        for word, rule in lexicon[text[start]]:
            if text.startswith(word, start) and _word_bounds(text, start, start + len(word), cache, rule.guessed):
                out.append((rule, start, start + len(word)))
                break
    return out


def _spans(rx: re.Pattern, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in rx.finditer(text)]


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def allowed_spans(text: str, terms: OfficeTerms) -> list[tuple[int, int]]:
    """Where the office's accepted wordings (允许用语) occur in `text`."""
    out: list[tuple[int, int]] = []
    for word in terms.allowed:
        if word:
            out.extend(m.span() for m in re.finditer(re.escape(word), text))
    return out


def exempt_spans(text: str, terms: OfficeTerms | None = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Where no register finding is reported: (quotations and titles, where only a note to self
    is; the official placeholders and the office's accepted wordings, where nothing is)."""
    accepted = allowed_spans(text, terms) if terms else []
    return _spans(_QUOTED, text), _spans(PLACEHOLDER, text) + accepted


def lint_register(text: str, terms: OfficeTerms | None = None) -> list[StyleFinding]:
    """Register findings for `text` (rule R1–R4), sorted by position; one finding per stretch of
    words: where patterns overlap, a note to self wins, then the longer match (大伙儿 over 儿)."""
    quoted = _spans(_QUOTED, text)
    placeholders = _spans(PLACEHOLDER, text)
    accepted = allowed_spans(text, terms) if terms else []
    tagged: dict[tuple[int, int], dict[int, str]] = {}
    bounds: _Bounds = {}
    patterns, anchor_chars = _anchored_rules()
    index = CharIndex(text, anchor_chars)
    found = [
        (r, *m.span())
        for r, pattern in zip(register_rules(), patterns)
        for m in pattern.finditer(text, index)
        if (not r.then or _next_word_is(text, m.start(), m.end(), r.then, tagged))
        and (not r.words or _word_bounds(text, m.start(), m.end(), bounds, r.guessed))
    ]
    candidates: list[tuple[RegisterRule, int, int]] = []
    named = found + _lexicon_matches(text) + _saying_matches(text) + _doubled_verbs(text, tagged) + _given_names(text)
    for r, start, end in named:
        if end <= start or _overlaps(start, end, placeholders) or _overlaps(start, end, accepted):
            continue
        if r.rule != "R4" and _inside(start, end, quoted):
            continue
        candidates.append((r, start, end))
    candidates.sort(key=lambda c: (c[0].rule != "R4", c[1] - c[2], c[1]))
    taken: list[tuple[int, int]] = []
    out: list[StyleFinding] = []
    for r, start, end in candidates:
        if _overlaps(start, end, taken):
            continue
        taken.append((start, end))
        word = text[start:end]
        message = (r.message or f"口语“{{w}}”（{r.name}）").replace("{w}", word)
        if r.rule != "R4" and r.message is None:
            message += "，汇报宜用书面语"
        suggestion = r.suggestion.replace("{w}", word) if r.suggestion is not None else None
        out.append(
            StyleFinding(rule=r.rule, severity=r.severity, start=start, end=end, message=message, suggestion=suggestion)
        )
    # R5: what the statistical model reads as spoken, where no rule above reported anything, outside
    # quotes, titles, placeholders, the office's accepted wordings and wording published official
    # prose uses word for word. Everywhere only for an office that turned it on (口语统计核对): on real
    # reports it still gives ~0.7 warnings per 5,000 characters, nearly all false, for ~5 points of
    # recall. Inside a bracketed aside always: 公文's own brackets (names, scopes, dates, figures) score
    # far below the threshold (0 findings on 1.5 million characters of published prose), so there a
    # spoken stretch marks the whole aside as a remark left in the draft.
    model_on = terms is not None and terms.spoken_model
    asides = [] if model_on else _spans(_ASIDE, text)
    if not model_on and not asides:
        return sorted(out, key=lambda f: (f.start, f.rule))
    skip = taken + placeholders + accepted + quoted  # a quotation's edge inside the span: it is about the quote
    if model_on:
        stretches = informal_spans(text)
    else:  # only inside a bracketed aside, scored on its own words
        stretches = [(a + 1 + s, a + 1 + e, v) for a, b in asides for s, e, v in informal_spans(text[a + 1 : b - 1])]
    reported: set[tuple[int, int]] = set()
    for start, end, _ in stretches:
        if _overlaps(start, end, skip):  # first on the model's span: jieba (below) is the slow part
            continue
        span = _model_span(text, start, end, tagged)
        if span is None or _overlaps(*span, skip):
            continue
        start, end = span
        if text[start:end] in official_prose():  # published official prose says it so (register_model.official_prose)
            continue
        message, suggestion = _MODEL_MESSAGE, _MODEL_SUGGESTION
        if not model_on:  # the whole aside is the remark, unless a rule already reports something in it
            aside = next(((a + 1, b - 1) for a, b in asides if a < start and end < b), None)
            if aside is None or _overlaps(*aside, skip) or aside in reported:
                continue
            reported.add(aside)
            (start, end), message, suggestion = aside, _ASIDE_MESSAGE, _ASIDE_SUGGESTION
        out.append(
            StyleFinding(
                rule="R5",
                severity="warning",
                start=start,
                end=end,
                message=message.replace("{w}", text[start:end]),
                suggestion=suggestion,
            )
        )
    return sorted(out, key=lambda f: (f.start, f.rule))


def merge_register(findings: list[StyleFinding], text: str, terms: OfficeTerms) -> list[StyleFinding]:
    """`findings` (the other style rules) plus the register findings of `text`. Words an L5/L7
    finding already covers (咱们, 搞定) are not reported a second time, except inside a note to self
    (R4), which is reported instead of the word; an L7 finding on a wording
    the office accepts (允许用语) is dropped."""
    accepted = allowed_spans(text, terms)
    register = lint_register(text, terms)
    # a note to self wins over a word in it: （你把这段再改改） is one R4 error, not an L5 on 你
    notes = [(f.start, f.end) for f in register if f.rule == "R4"]
    kept = [
        f
        for f in findings
        if not (f.rule == "L7" and _overlaps(f.start, f.end, accepted))
        and not (f.rule in _ALREADY and _overlaps(f.start, f.end, notes))
    ]
    covered = [(f.start, f.end) for f in kept if f.rule in _ALREADY]
    return kept + [f for f in register if not _overlaps(f.start, f.end, covered)]
