"""The signed-in member's own account."""
from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")
