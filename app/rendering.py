"""One view serves a whole page and, to an htmx request that targets a block, only that block.

Blocks are named after the element id they fill, with dashes as underscores: the element
`<div id="member-form">` is filled by `{% block member_form %}`.
"""
from flask import current_app, make_response, redirect, render_template
from jinja2_fragments.flask import render_block

from app import htmx


def block_for_target(template_name: str) -> str | None:
    target = htmx.target()
    if not target or not htmx.is_htmx() or htmx.is_boosted():
        return None
    name = target.replace("-", "_")
    template = current_app.jinja_env.get_template(template_name)
    return name if name in template.blocks else None


def render_page(template_name: str, status: int = 200, block: str | None = None, **context):
    """Render the page, or only `block` (or the block the htmx target names)."""
    block = block or block_for_target(template_name)
    if block:
        return render_block(template_name, block, **context), status
    return render_template(template_name, **context), status


def csv_response(text: str, filename: str):
    """A CSV file (made with app/csv_export.py) that the browser saves as `filename`."""
    response = make_response(text)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def pdf_response(data: bytes, filename: str, *, inline: bool = False):
    """A PDF the browser saves as `filename` (or, `inline`, shows, to print)."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return response


def see_other(url: str):
    """After a successful POST: 303 to the next page, or for htmx a client-side navigation there
    (a plain redirect would be followed by the XHR and its whole page swapped into the target)."""
    if htmx.is_htmx():
        return htmx.redirect(make_response("", 200), url)
    return redirect(url, code=303)
