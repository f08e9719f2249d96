from __future__ import annotations

from flask import Blueprint

bp = Blueprint("devices", __name__)
