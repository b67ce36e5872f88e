"""Clients: the list and search, each client's overview, sessions, billing and insurance, contacts."""
from flask import Blueprint

bp = Blueprint("clients", __name__, url_prefix="/clients")
