"""Sessions: the day and week lists, booking, Mark Session Complete, notes and diagnoses."""
from flask import Blueprint

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
diagnoses_bp = Blueprint("diagnoses", __name__, url_prefix="/diagnoses")
