"""Payers: the insurance companies the practice bills, as its clearinghouse knows them."""
from flask import Blueprint

bp = Blueprint("payers", __name__, url_prefix="/settings/payers")
