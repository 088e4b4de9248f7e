"""Page scripts run by st.navigation (app.py). Each renders when executed as a script."""
