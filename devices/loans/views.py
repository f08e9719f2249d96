from __future__ import annotations

from flask import Blueprint

bp = Blueprint("loans", __name__)
