from app.blueprints.claims.views import bp

__all__ = ["bp"]
