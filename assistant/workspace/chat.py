"""The workspace chat: what staff type, turned into actions on the report.

Pure logic, no Streamlit: the page hands in a `ChatActions` object that performs the actions
(regenerate a section, change a figure, search the knowledge base, explain a check finding).

With a model, the model chooses among `TOOLS` (OpenAI function-calling schemas). Reading
calls (search, explain) run at once; a call that would change the report (a figure, a
section) only becomes a `Proposal` the user confirms, because the model's input includes
retrieved passages that may tell it to. Search results go back to the model fenced exactly
as in drafting. Without one, `parse_command` understands a small fixed set of
commands and anything else is answered with the best knowledge-base passages.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from assistant.core.errors import HuibaoError
from assistant.drafting.section_prompt import reference_block
from assistant.gongwen import NUMERALS, from_hanzi
from assistant.llm.port import ChatMessage, ChatModel

IntentKind = Literal["regenerate", "set_figure", "search", "explain", "help", "undo", "invalid"]


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    section: str | None = None  # a section reference as typed: "1.2", "（二）", a title fragment
    instruction: str | None = None  # regenerate: what to change
    figure: str | None = None  # set_figure: figure id or item name
    value: float | None = None
    unit: str | None = None
    query: str | None = None  # search; invalid: what is wrong, in Chinese


@dataclass
class ActionResult:
    """What one action did, in Chinese, plus whether it changed the report."""

    message: str
    changed: bool = False
    sections: list[str] = field(default_factory=list)  # section ids touched or made stale
    # how to take the change back (ChatActions.undo): {"kind": "figure", "figure_id", "value",
    # "unit"} or {"kind": "section", "section_id", "version"}; None for reading actions
    undo: dict[str, Any] | None = None


class PassageLike(Protocol):
    text: str
    source: str
    heading_path: str


class ChatActions(Protocol):
    """Performed by the page (assistant.ui.actions); a fake in tests."""

    def regenerate(self, section_id: str, instruction: str | None) -> ActionResult: ...
    def set_figure(self, figure: str, value: float, unit: str | None) -> ActionResult: ...
    def search(self, query: str, k: int = 3) -> Sequence[PassageLike]: ...
    def explain(self, section_id: str) -> ActionResult: ...
    def resolve_section(self, ref: str) -> str | None: ...
    def undo(self) -> ActionResult: ...


_COMMANDS = (
    "- `重写 1.2 更精炼`：按要求重新起草某一节（“重写”后接章节编号，再写要求，可省略）\n"
    "- `数据 新闻发布会 10`：修改一项数据（项目名称，再写新数值，可带单位；十一 这样的汉字数字也可）\n"
    "- `查找 新媒体`：在素材库中查找相关段落\n"
    "- `解释 1.2`：说明某一节的核对结果（编造的数字、待补充项、文风问题），数据改过时会提示\n"
    "- `撤销`：撤回对话中最近一次修改（数据改回原值，章节回到原来的版本，都作为新版本保存）"
)
HELP_TEXT = "可用的指令：\n" + _COMMANDS + "\n其他问题将按素材库检索作答（当前未配置模型，使用离线引擎）。"
MODEL_HELP_TEXT = (
    "可以直接用中文提出要求，例如“把 1.2 写得更精炼”“新闻发布会改成 12 次”“去年怎么写宣传阵地建设的”。"
    "模型提出的修改须经您确认才会执行。下面的指令也可以直接输入，会立即执行：\n" + _COMMANDS
)


def help_text(model_configured: bool) -> str:
    """The commands, said for the engine in use."""
    return MODEL_HELP_TEXT if model_configured else HELP_TEXT


_VERBS_REGENERATE = ("重写", "重新起草", "重新生成", "改写", "润色")
_VERBS_FIGURE = ("数据", "修改数据", "改数据")
_VERBS_SEARCH = ("查找", "搜索", "检索", "查询")
_VERBS_EXPLAIN = ("解释", "说明")
_VERBS_HELP = ("帮助", "help", "?", "？", "指令")
_VERBS_UNDO = ("撤销", "撤回", "undo")

_SECTION_ID = r"(?:intro|closing|\d+(?:\.\d+)*)"
_NUMBER = r"[+-]?\d+(?:\.\d+)?"
_HANZI_NUMBER = f"[{NUMERALS}千万亿点]+"


def _normalise(text: str) -> str:
    # NFKC turns full-width digits, letters and spaces into ASCII, which is what staff type
    # on a Chinese IME half the time; keep the Chinese brackets as they are.
    return unicodedata.normalize("NFKC", text).strip()


def _strip_verb(text: str, verbs: Sequence[str]) -> str | None:
    for verb in sorted(verbs, key=len, reverse=True):
        if text.lower().startswith(verb.lower()):
            rest = text[len(verb) :]
            return rest.lstrip(" :：，,")
    return None


def parse_command(text: str) -> Intent | None:
    """The offline command set. None when the text is not a command (then: search)."""
    text = _normalise(text)
    if not text:
        return None
    if text.lower() in _VERBS_HELP:
        return Intent("help")
    if text.lower() in _VERBS_UNDO:
        return Intent("undo")

    rest = _strip_verb(text, _VERBS_REGENERATE)
    if rest is not None:
        m = re.match(rf"(?:第\s*)?({_SECTION_ID})\s*(?:节|部分)?\s*[，,:：]?\s*(.*)$", rest, re.S)
        if m:
            return Intent("regenerate", section=m.group(1), instruction=m.group(2).strip() or None)
        if rest:
            # "重写 新闻宣传 更精炼": a title fragment is the first word
            ref, _, instruction = rest.partition(" ")
            return Intent("regenerate", section=ref, instruction=instruction.strip() or None)
        return None

    rest = _strip_verb(text, _VERBS_FIGURE)
    if rest is not None:
        # the figure name ends at a separator, a space, or where the digits start after Chinese
        m = re.match(rf"(.+?)(?:\s*(?:改为|改成|为|=|:|：)\s*|\s+|(?<=[^\dA-Za-z.]))({_NUMBER})\s*([^\d\s]*)$", rest)
        if m and m.group(1).strip():
            return Intent(
                "set_figure", figure=m.group(1).strip(), value=float(m.group(2)), unit=m.group(3).strip() or None
            )
        # 汉字 numerals ("数据 新闻发布会 十一"): the value after a space or 改为
        m = re.match(rf"(.+?)(?:\s*(?:改为|改成|为|=|:|：)\s*|\s+)({_HANZI_NUMBER})\s*([^\d\s]*)$", rest)
        value = from_hanzi(m.group(2)) if m else None
        if m and m.group(1).strip() and value is not None:
            return Intent("set_figure", figure=m.group(1).strip(), value=value, unit=m.group(3).strip() or None)
        return Intent(
            "invalid",
            query=f"“数据”指令要写项目名称和新的数值，数值须是数字，例如“数据 新闻发布会 11”或“数据 新闻发布会 十一”；"
            f"收到的是“{rest}”。",
        )

    rest = _strip_verb(text, _VERBS_SEARCH)
    if rest is not None:
        return Intent("search", query=rest) if rest else None

    rest = _strip_verb(text, _VERBS_EXPLAIN)
    if rest is not None:
        m = re.match(rf"(?:第\s*)?({_SECTION_ID})\s*(?:节|部分)?", rest)
        if m:
            return Intent("explain", section=m.group(1))
        return Intent("explain", section=rest) if rest else None
    return None


def format_passages(passages: Sequence[PassageLike], *, limit: int = 3, chars: int = 160) -> str:
    """Cited passages as Markdown: source, heading path, an excerpt."""
    if not passages:
        return "素材库中没有找到相关内容。"
    lines = []
    for i, p in enumerate(passages[:limit], start=1):
        excerpt = " ".join(p.text.split())
        if len(excerpt) > chars:
            excerpt = excerpt[:chars] + "…"
        where = f"{p.source}" + (f" · {p.heading_path}" if p.heading_path else "")
        lines.append(f"[{i}] **{where}**\n> {excerpt}")
    return "\n\n".join(lines)


def run_intent(intent: Intent, actions: ChatActions) -> ActionResult:
    """Execute one parsed command. Errors the user should see are returned, not raised, so a
    refused action (a locked section, an unknown figure) is reported and the chat goes on."""
    try:
        return _run_intent(intent, actions)
    except HuibaoError as err:
        return ActionResult(f"未能完成：{err}")


def _run_intent(intent: Intent, actions: ChatActions) -> ActionResult:
    if intent.kind == "help":
        return ActionResult(HELP_TEXT)
    if intent.kind == "invalid":
        return ActionResult(intent.query or "无法理解这条指令。输入“帮助”查看可用指令。")
    if intent.kind == "undo":
        return actions.undo()
    if intent.kind == "search":
        passages = actions.search(intent.query or "")
        return ActionResult(f"按“{intent.query}”在素材库中找到：\n\n" + format_passages(passages))
    if intent.kind in ("regenerate", "explain"):
        section_id = actions.resolve_section(intent.section or "")
        if section_id is None:
            return ActionResult(f"没有找到章节“{intent.section}”。请写章节编号，如 1.2。")
        if intent.kind == "regenerate":
            return actions.regenerate(section_id, intent.instruction)
        return actions.explain(section_id)
    if intent.kind == "set_figure":
        assert intent.figure is not None and intent.value is not None
        return actions.set_figure(intent.figure, intent.value, intent.unit)
    raise ValueError(intent.kind)  # pragma: no cover - Literal exhausts the kinds


# --- model tool calling ---------------------------------------------------------------

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "regenerate_section",
            "description": "按要求重新起草汇报中的一节（其余章节不变）。",
            "parameters": {
                "type": "object",
                "properties": {
                    "section_id": {"type": "string", "description": "章节编号，如 1.2、intro、closing"},
                    "instruction": {"type": "string", "description": "修改要求，如“更精炼”“突出新媒体”"},
                },
                "required": ["section_id"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "set_figure",
            "description": "修改一项数据的数值（用到它的章节会标为待更新）。",
            "parameters": {
                "type": "object",
                "properties": {
                    "figure": {"type": "string", "description": "数据编号或项目名称，如 F03 或 新闻发布会"},
                    "value": {"type": "number"},
                    "unit": {"type": "string", "description": "单位，可省略（沿用原单位）"},
                },
                "required": ["figure", "value"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search_knowledge",
            "description": "在素材库（往年汇报、政策文件）中检索段落，回答时须注明出处。",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                },
                "required": ["query"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "explain_check",
            "description": "说明某一节的核对结果：哪些数字无依据、哪些待补充、有哪些文风问题。",
            "parameters": {
                "type": "object",
                "properties": {
                    "section_id": {"type": "string"},
                },
                "required": ["section_id"],
            },
        },
    },
]

_TOOL_TO_INTENT: dict[str, IntentKind] = {
    "regenerate_section": "regenerate",
    "set_figure": "set_figure",
    "search_knowledge": "search",
    "explain_check": "explain",
}


def intent_from_tool_call(name: str, arguments: str | dict | None) -> Intent:
    """A model's tool call as an Intent; ValueError (Chinese) for an unknown tool or bad arguments."""
    if name not in _TOOL_TO_INTENT:
        raise ValueError(f"模型请求了未知的操作“{name}”。")
    if isinstance(arguments, str):
        try:
            args = json.loads(arguments or "{}")
        except json.JSONDecodeError as err:
            raise ValueError(f"模型给出的参数不是有效的 JSON：{err.msg}") from err
    else:
        args = dict(arguments or {})
    if not isinstance(args, dict):
        raise ValueError("模型给出的参数应是一个对象。")
    kind = _TOOL_TO_INTENT[name]
    try:
        if kind == "regenerate":
            return Intent(kind, section=str(args["section_id"]), instruction=(args.get("instruction") or None))
        if kind == "explain":
            return Intent(kind, section=str(args["section_id"]))
        if kind == "search":
            return Intent(kind, query=str(args["query"]))
        value = args["value"]
        value = float(value) if not isinstance(value, str) else float(_normalise(value))
        return Intent(kind, figure=str(args["figure"]), value=value, unit=(args.get("unit") or None))
    except KeyError as err:
        raise ValueError(f"模型调用“{name}”时缺少参数 {err.args[0]}。") from err
    except (TypeError, ValueError) as err:
        raise ValueError(f"模型调用“{name}”时参数无效：{err}") from err


# Tool calls that only read run at once; any other (a figure, a section, and whatever tool is
# added later) is proposed to the user and applied only on 确认.
READING_KINDS: frozenset[IntentKind] = frozenset({"search", "explain", "help"})


@dataclass(frozen=True)
class Proposal:
    """A change the model asked for through a tool call, waiting for the user's 确认."""

    intent: Intent
    section_id: str | None = None  # resolved, for regenerate

    def describe(self) -> str:
        i = self.intent
        if i.kind == "set_figure":
            unit = i.unit or ""
            value = f"{i.value:g}" if i.value is not None else ""
            return f"将数据“{i.figure}”改为 {value}{unit}"
        if i.kind == "regenerate":
            how = f"（要求：{i.instruction}）" if i.instruction else ""
            return f"重新起草章节 {self.section_id or i.section}{how}"
        return f"执行操作“{i.kind}”"  # pragma: no cover - every changing tool is named above

    def to_json(self) -> str:
        """How the workspace keeps a proposal while it waits (Workspace.propose)."""
        return json.dumps({"intent": asdict(self.intent), "section_id": self.section_id}, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> Proposal:
        raw = json.loads(data)
        return cls(Intent(**raw["intent"]), raw.get("section_id"))


def apply_proposal(proposal: Proposal, actions: ChatActions) -> ActionResult:
    """Run a confirmed proposal; the result says the change came from the chat's proposal."""
    intent = proposal.intent
    if proposal.section_id is not None:
        intent = Intent(intent.kind, section=proposal.section_id, instruction=intent.instruction)
    result = run_intent(intent, actions)
    result.message = f"（对话中模型提议，经您确认）{result.message}"
    return result


def run_tool_call(name: str, arguments: str | dict | None, actions: ChatActions) -> ActionResult:
    try:
        intent = intent_from_tool_call(name, arguments)
    except ValueError as err:
        return ActionResult(str(err))
    return run_intent(intent, actions)


SYSTEM_PROMPT = (
    "你是“汇报起草助手”的对话助手，帮助机关工作人员修改年度工作汇报。"
    "需要修改章节、修改数据、查找素材或解释核对结果时，调用提供的工具；"
    "回答素材问题时注明出处（文件与标题路径）。不要编造数字。用简洁的中文回答，并说明做了什么。"
)


def outline_for_prompt(sections: Sequence[tuple[str, str]]) -> str:
    """The report's section ids and titles, so the model can name a section."""
    return "当前汇报的章节：\n" + "\n".join(f"- {sid}：{title}" for sid, title in sections)


# --- one chat turn ------------------------------------------------------------------------


@dataclass
class ChatReply:
    text: str  # what the assistant says (Markdown)
    actions: list[ActionResult] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)  # waiting for 确认 / 取消

    @property
    def changed(self) -> bool:
        return any(a.changed for a in self.actions)


def offline_reply(text: str, actions: ChatActions) -> ChatReply:
    """No model: the fixed commands, and anything else answered from the knowledge base."""
    intent = parse_command(text)
    if intent is None:
        passages = actions.search(text.strip())
        body = "离线引擎只懂固定指令（输入“帮助”查看），以下是素材库中与问题最相关的段落：\n\n" + format_passages(
            passages
        )
        return ChatReply(body)
    result = run_intent(intent, actions)
    return ChatReply(result.message, [result] if intent.kind != "help" else [])


def typed_command(text: str) -> Intent | None:
    """A command the user typed that applies at once even with a model (撤销, and the fixed
    grammar's changes): the model is not asked."""
    intent = parse_command(text)
    if intent is None:
        return None
    if intent.kind in ("undo", "set_figure", "invalid", "help"):
        return intent
    if intent.kind in ("regenerate", "explain") and re.fullmatch(_SECTION_ID, intent.section or ""):
        return intent  # "重写 1.2 更精炼" names a section: a command, not a question
    return None


def _without_excerpts(said: str) -> str:
    """An earlier answer as the model sees it again: the passage excerpts it showed the user
    (format_passages quotes them as "> " lines) are dropped, so retrieved text never comes
    back unfenced, in the assistant's own voice."""
    return re.sub(r"(?m)^> .*$", "> （素材摘录，已略去）", said)


def model_reply(
    model: ChatModel,
    text: str,
    actions: ChatActions,
    *,
    history: Sequence[tuple[str, str]] = (),
    outline: str = "",
    max_rounds: int = 3,
    on_delta: Callable[[str], None] | None = None,
) -> ChatReply:
    """With a model: let it call TOOLS (possibly several rounds), run each call, and end with
    its answer plus a plain list of what was actually done (the model's prose may omit it).
    With ``on_delta`` the model's words are handed on as they arrive (the page streams them)."""
    messages = [ChatMessage.system(SYSTEM_PROMPT + ("\n\n" + outline if outline else ""))]
    for role, said in list(history)[-10:]:
        messages.append(ChatMessage.user(said) if role == "user" else ChatMessage.assistant(_without_excerpts(said)))
    messages.append(ChatMessage.user(text))
    done: list[ActionResult] = []
    proposed: list[Proposal] = []
    answer = ""
    for _ in range(max_rounds):
        reply = model.complete_with_tools(messages, TOOLS, on_delta=on_delta)
        if not reply.tool_calls:
            answer = reply.content.strip()
            break
        messages.append(reply.as_message())
        for call in reply.tool_calls:
            result, for_model, proposal = _model_tool_call(call.name, call.arguments, actions)
            if proposal is not None:
                proposed.append(proposal)
            else:
                done.append(result)
            messages.append(ChatMessage.tool(call.id, for_model))
    if done:
        report = "已执行的操作：\n" + "\n".join(f"- {a.message}" for a in done)
        answer = f"{answer}\n\n{report}" if answer else report
    if proposed:
        report = "模型提议以下修改，尚未执行，请确认或取消：\n" + "\n".join(f"- {p.describe()}" for p in proposed)
        answer = f"{answer}\n\n{report}" if answer else report
    return ChatReply(answer or "（模型没有给出回答。）", done, proposed)


def _model_tool_call(
    name: str, arguments: str | dict | None, actions: ChatActions
) -> tuple[ActionResult, str, Proposal | None]:
    """(what to show the user, what goes back to the model, a proposal awaiting confirmation)."""
    try:
        intent = intent_from_tool_call(name, arguments)
    except ValueError as err:
        return ActionResult(str(err)), str(err), None
    if intent.kind not in READING_KINDS:
        section_id = None
        if intent.kind == "regenerate":
            section_id = actions.resolve_section(intent.section or "")
            if section_id is None:
                msg = f"没有找到章节“{intent.section}”。请写章节编号，如 1.2。"
                return ActionResult(msg), msg, None
        proposal = Proposal(intent, section_id)
        note = f"已向用户提议：{proposal.describe()}。须经用户确认才会执行，目前尚未执行。"
        return ActionResult(note), note, proposal
    if intent.kind == "search":
        try:
            passages = actions.search(intent.query or "")
        except HuibaoError as err:
            return ActionResult(f"未能完成：{err}"), f"未能完成：{err}", None
        shown = ActionResult(f"按“{intent.query}”在素材库中找到：\n\n" + format_passages(passages))
        return shown, reference_block(passages), None
    result = run_intent(intent, actions)
    return result, result.message, None
