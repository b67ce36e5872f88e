from app.blueprints.remittances.views import bp

__all__ = ["bp"]
