"""Blueprints by domain: routes and forms only; the rules live in app/billing and app/accounts."""
