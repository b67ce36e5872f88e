from app.blueprints.services.views import bp, codes_bp

__all__ = ["bp", "codes_bp"]
