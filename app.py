"""汇报起草助手 — the Streamlit workspace. `streamlit run app.py`

Wiring only: the pages in assistant/ui/pages call the stage modules (store, draft, figures,
check, ingest, retrieve, export, model) and show what they return.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chromadb's telemetry: never phone home

from assistant.ui import shell  # noqa: E402

PAGES = Path(shell.__file__).parent / "pages"  # the package's pages, also from the wheel's copy of app.py

# An emoji icon: for a :material/ icon the browser fetches the favicon from fonts.gstatic.com.
st.set_page_config(page_title="汇报起草助手", page_icon="📝", layout="wide")
# Who this run acts for (the signed-in person, or the local user); stops here for nobody.
sess = shell.start()

navigation = st.navigation(
    [
        st.Page(PAGES / "reports.py", title="报告", icon=":material/folder_open:", url_path="reports", default=True),
        st.Page(PAGES / "outline.py", title="提纲", icon=":material/account_tree:", url_path="outline"),
        st.Page(PAGES / "sections.py", title="章节", icon=":material/article:", url_path="sections"),
        st.Page(PAGES / "materials.py", title="素材", icon=":material/find_in_page:", url_path="materials"),
        st.Page(PAGES / "figures.py", title="数据", icon=":material/table_chart:", url_path="figures"),
        st.Page(PAGES / "chat.py", title="对话", icon=":material/chat:", url_path="chat"),
        st.Page(PAGES / "knowledge.py", title="素材库", icon=":material/library_books:", url_path="knowledge"),
        st.Page(PAGES / "export.py", title="导出", icon=":material/download:", url_path="export"),
        st.Page(PAGES / "settings.py", title="设置", icon=":material/settings:", url_path="settings"),
    ]
    # the page refuses the log to others anyway; it is listed only where it can be read
    + (
        [st.Page(PAGES / "audit.py", title="操作记录", icon=":material/history:", url_path="audit")]
        if shell.may_audit(sess)
        else []
    )
)
shell.frame()
shell.run_page(navigation)
