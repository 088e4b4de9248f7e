"""汇报起草助手 — the server `huibao ui` starts: the page (app.py) and the sign-in routes.

Streamlit's public st.App (streamlit.starlette) runs app.py as usual and adds Starlette routes and
middleware: the sign-in form that sets the HttpOnly session cookie, and the guard that keeps
every page request behind it while accounts are on (assistant/ui/signin.py).
"""

from pathlib import Path

from streamlit.starlette import App

from assistant.ui import signin

app = App(Path(__file__).resolve().with_name("app.py"), routes=signin.routes(), middleware=signin.middleware())
