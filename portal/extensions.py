"""Extensions, unbound: ``create_app`` binds them."""

from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from peewee import DatabaseProxy

db = DatabaseProxy()
babel = Babel()
csrf = CSRFProtect()
