"""Every read of an HX-* request header and every HX-* response header, in one place."""
import json

from flask import Response, request

#: htmx stops polling when a response has this status.
STOP_POLLING = 286


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def target() -> str | None:
    """The id of the element htmx will swap, without the leading '#'."""
    value = request.headers.get("HX-Target")
    return value.lstrip("#") if value else None


def is_boosted() -> bool:
    return request.headers.get("HX-Boosted") == "true"


def trigger(response: Response, event: str, detail: object = None) -> Response:
    """Fire a client-side event after the swap; several calls add several events."""
    events = json.loads(response.headers.get("HX-Trigger", "{}"))
    events[event] = detail if detail is not None else {}
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def toast(response: Response, message: str, level: str = "success") -> Response:
    return trigger(response, "toast", {"message": message, "level": level})


def redirect(response: Response, url: str) -> Response:
    """A full-page navigation from an htmx request."""
    response.headers["HX-Redirect"] = url
    return response


def refresh(response: Response) -> Response:
    response.headers["HX-Refresh"] = "true"
    return response


def add_vary(response: Response) -> Response:
    """Pages and their fragments share URLs, so caches must key on these headers too."""
    response.vary.update(["HX-Request", "HX-Target"])
    return response
