from app.blueprints.clients.views import bp

__all__ = ["bp"]
