from app.blueprints.auth import reset_views  # noqa: F401  (registers the password-reset pages on bp)
from app.blueprints.auth.views import bp

__all__ = ["bp"]
