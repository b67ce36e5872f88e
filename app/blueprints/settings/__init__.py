from app.blueprints.settings.views import bp

__all__ = ["bp"]
