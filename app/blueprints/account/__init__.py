from app.blueprints.account import two_factor_views  # noqa: F401  (registers the two-factor pages on bp)
from app.blueprints.account import member_views  # noqa: F401  (registers the account page and the password change on bp)
from app.blueprints.account.views import bp

__all__ = ["bp"]
