from app.blueprints.payers.views import bp

__all__ = ["bp"]
