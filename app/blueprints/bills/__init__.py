from app.blueprints.bills.views import bp, payments_bp

__all__ = ["bp", "payments_bp"]
