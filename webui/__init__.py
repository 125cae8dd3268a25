"""The web UI: a Flask app (``webui.app.create_app``) over the store contract."""
