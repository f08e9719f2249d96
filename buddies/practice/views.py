from __future__ import annotations

from flask import Blueprint

bp = Blueprint("practice", __name__)
