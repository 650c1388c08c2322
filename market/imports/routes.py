"""Web upload of spreadsheets for listing owners."""

from flask import Blueprint

bp = Blueprint("imports", __name__)
