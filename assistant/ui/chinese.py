"""Chinese for the texts Streamlit's frontend writes in English: the file uploader, the error
dialogs (page not found, connection lost), input hints, the "Running…" status.

Streamlit has no setting for its language and its installed files are not ours to edit, so the
page replaces these texts itself: a small script, sent once per page as the page's own HTML,
rewrites an exact English text (or one of a few patterns) wherever the frontend puts it, in text
and in the labels screen readers and tooltips show. Texts it does not know stay as they are.
"""

from __future__ import annotations

import json

import streamlit as st

# English text as the frontend writes it -> what the page shows.
EXACT: dict[str, str] = {
    "Upload": "选择文件",
    "Upload directories": "选择文件夹",
    "Drag and drop file here": "把文件拖到这里",
    "Drag and drop files here": "把文件拖到这里",
    "Drag and drop a file here": "把文件拖到这里",
    "Browse files": "选择文件",
    "Remove file": "移除文件",
    "File size is too small.": "文件太小。",
    "Page not found": "没有这个页面",
    "Connection error": "连接中断",
    "Bad message format": "页面收到的数据有误",
    "Running...": "正在运行…",
    "Running": "正在运行",
    "Connecting": "正在连接",
    "Connecting to Streamlit server": "正在连接服务器",
    "Stop": "停止",
    "Close": "关闭",
    "Error": "错误",
    "Please wait...": "请稍候…",
    "Press Enter to apply": "按回车键确认",
    "Press Enter to submit form": "按回车键提交",
    "Press Enter to submit": "按回车键提交",
    "Choose an option": "请选择",
    "Choose options": "请选择",
    "No results": "没有匹配的选项",
    "Selectbox options": "选项",
    "Show password": "显示密钥",
    "Hide password": "隐藏密钥",
    "Collapse sidebar": "收起侧栏",
    "Expand sidebar": "展开侧栏",
    "Skip to main content": "跳到正文",
    "Copy to clipboard": "复制",
    "Download as CSV": "下载为 CSV",
    "Search": "搜索",
    "Fullscreen": "全屏",
    "Close fullscreen": "退出全屏",
    "Add row": "添加一行",
    "Add files": "添加文件",
    "file upload": "上传文件",
    "Increment": "加一",
    "Decrement": "减一",
    "Send message": "发送",
    "Stop script": "停止运行",
    "Clear value": "清除",
    "Clear all": "全部清除",
    "Open": "打开",
    "Sidebar": "侧栏",
    "App pages": "页面",
    "Main menu": "菜单",
    "Link to heading": "本标题的链接",
    "Scroll tabs left": "向左滚动标签",
    "Scroll tabs right": "向右滚动标签",
    "Next page": "下一页",
    "Previous page": "上一页",
    "Copy column name": "复制列名",
    "Dataframe column menu": "列菜单",
    "Delete row(s)": "删除所选行",
    "Shortcut": "快捷键",
    "Delete row": "删除一行",
    "Delete rows": "删除所选行",
    "Connection lost. Please wait for the app to reconnect, then try again.": "连接中断，请等页面重新连接后再试。",
    "The page that you have requested does not seem to exist. Running the app's main page.": (
        "没有这个页面，已打开首页。"
    ),
}

# (JavaScript regular expression, replacement with $1…) for texts that carry a value.
PATTERNS: list[tuple[str, str]] = [
    (
        r"^You have requested page /(.*), but no corresponding file was found in the app's pages/ directory\. "
        r"Running the app's main page\.$",
        "没有“$1”这个页面，已打开首页。",
    ),
    (r"^([\d.]+)\s*([KMG]?B) per file$", "单个文件不超过 $1 $2"),
    (r"^ • (.*)$", " · 可选：$1"),
    (r"^File must be ([\d.]+\s*[KMG]?B) or smaller\.$", "文件不能超过 $1。"),
    (r"^(.*) files are not allowed\.$", "不接受这种类型的文件（$1）。"),
    (r"^Press (⌘|Ctrl)\+Enter to apply$", "按 $1+回车键确认"),
    (r"^Remove (.+)$", "移除 $1"),
    (r"^Upload (.+)$", "上传 $1"),
    (r"^Chat message from (.+)$", "对话消息"),
    (
        r"^This app has encountered an error\\..*$",
        "页面出错了。已保存的内容不受影响，可刷新页面重试；详细信息已写入服务器日志。",
    ),
    (r"^Is Streamlit still running\?.*$", "服务器是否还在运行？如果已停止，请在终端里重新运行 huibao ui。"),
]

_SCRIPT = """
<script>
(() => {
  if (window.__huibaoChinese) return;
  window.__huibaoChinese = true;
  const exact = new Map(Object.entries(%(exact)s));
  const patterns = %(patterns)s.map(([re, to]) => [new RegExp(re), to]);
  const translate = (text) => {
    const key = text.trim();
    if (!key) return null;
    if (exact.has(key)) return text.replace(key, exact.get(key));
    for (const [re, to] of patterns) {
      if (re.test(text)) return text.replace(re, to);
    }
    return null;
  };
  const ATTRIBUTES = ["aria-label", "title", "placeholder"];
  const fixText = (node) => {
    const to = translate(node.nodeValue);
    if (to !== null && to !== node.nodeValue) node.nodeValue = to;
  };
  const fixAttributes = (element) => {
    for (const name of ATTRIBUTES) {
      const value = element.getAttribute(name);
      const to = value ? translate(value) : null;
      if (to !== null && to !== value) element.setAttribute(name, to);
    }
  };
  const fix = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return fixText(node);
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    fixAttributes(node);
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    while (walker.nextNode()) {
      const child = walker.currentNode;
      if (child.nodeType === Node.TEXT_NODE) fixText(child);
      else fixAttributes(child);
    }
  };
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "characterData" || record.type === "attributes") fix(record.target);
      else record.addedNodes.forEach(fix);
    }
  }).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRIBUTES,
  });
  fix(document.body);
})();
</script>
"""


def script() -> str:
    """The page's script that puts the Chinese in (fixed text, no user data)."""
    return _SCRIPT % {
        "exact": json.dumps(EXACT, ensure_ascii=False),
        "patterns": json.dumps(PATTERNS, ensure_ascii=False),
    }


def install() -> None:
    """Send the script with the page; it runs once per browser tab."""
    st.html(script(), unsafe_allow_javascript=True)
