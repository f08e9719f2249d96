from __future__ import annotations

from flask import Blueprint

bp = Blueprint("buddies", __name__)
