from app.blueprints.sessions.views import bp, diagnoses_bp

__all__ = ["bp", "diagnoses_bp"]
