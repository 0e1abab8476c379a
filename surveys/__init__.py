"""The pure survey domain: definitions, answer validation, redaction, disclosure control.

Standard library only: this package never imports Flask, peewee or bleach, so
it can be tested and reasoned about without the web application.
"""


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for translation; it is translated where it is shown."""
    return message
