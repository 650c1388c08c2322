"""Statistics pages and GET /api/v1/stats."""

from flask import Blueprint

bp = Blueprint("stats", __name__)
