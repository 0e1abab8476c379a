"""Entry point: ``flask --app app …`` and ``python app.py`` (development server on loopback)."""

from portal import create_app

app = create_app()

if __name__ == "__main__":
    from portal.web.serving import run_development_server

    run_development_server(app)
