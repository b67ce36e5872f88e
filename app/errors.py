"""Error pages: the same layout for every status, a fragment for htmx requests."""
from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app import htmx
from app.access import NotVisible

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "Your role does not give you access to this page."),
    404: ("Not found", "There is nothing here, or it belongs to another practice."),
    405: ("Not allowed", "That action is not possible on this page."),
    409: ("Not possible now", "The record is in a state that does not allow this change."),
    413: ("Too large", "What was sent is larger than Parity accepts. Send a smaller file."),
    429: ("Too many attempts", "Too many attempts. Wait a few minutes and try again."),
    500: ("Something went wrong", "The error was logged; nothing was saved. Try again in a moment."),
}


def render_error(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, ("Error", "Something went wrong."))
    template = "errors/fragment.html" if htmx.is_htmx() else "errors/page.html"
    return render_template(template, status=status, title=title, message=message or default), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        body, status = render_error(400, "The form had expired or came from elsewhere. Reload the page and try again.")
        response = app.make_response((body, status))
        return htmx.refresh(response) if htmx.is_htmx() else response

    @app.errorhandler(NotVisible)
    def not_visible(error: NotVisible):
        return render_error(404)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # A description given with abort(409, "…") is meant for the person; werkzeug's defaults are not.
        custom = error.description if error.description != type(error).description else None
        return render_error(error.code or 500, custom)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("Unhandled error")
        return render_error(500)
