"""How much a request may send: ``INCLUSION_MAX_REQUEST_BYTES`` for every page, and
``INCLUSION_MAX_IMPORT_BYTES`` for the few views that take a CSV file (marked
``@takes_import_file``). A larger request is refused with 413 from its Content-Length,
before its body is read."""

from __future__ import annotations

from flask import Request, current_app

# Room for the other fields of an import form beside its file.
FORM_FIELDS_ALLOWANCE = 64 * 1024


def takes_import_file(view):
    """Mark a view that accepts a CSV file of up to ``INCLUSION_MAX_IMPORT_BYTES``."""
    view.takes_import_file = True
    return view


def import_file_limit() -> int:
    return current_app.config["MAX_IMPORT_BYTES"]


def megabytes(size: int) -> str:
    shown = size / (1024 * 1024)
    return f"{shown:.0f} MB" if shown >= 1 and shown == int(shown) else f"{shown:.1f} MB"


class LimitedRequest(Request):
    """Flask's request with a larger body allowed only for views that take an import file."""

    @property
    def takes_import_file(self) -> bool:
        if not current_app or self.url_rule is None:
            return False
        view = current_app.view_functions.get(self.url_rule.endpoint)
        return bool(getattr(view, "takes_import_file", False))

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and current_app and self.takes_import_file:
            return import_file_limit() + FORM_FIELDS_ALLOWANCE
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def too_large_message() -> str:
    """What the 413 page says: the limit of the page the request was sent to."""
    from flask import request

    if isinstance(request, LimitedRequest) and request.takes_import_file:
        return (
            f"The file is larger than {megabytes(import_file_limit())}, the most one import "
            "takes. Nothing was added: split the file into smaller files and import each."
        )
    return (
        f"What you sent is larger than {megabytes(current_app.config['MAX_CONTENT_LENGTH'])}, "
        "the most this page accepts. Nothing was saved: go back, shorten it and try again."
    )


def uploaded_text(upload) -> tuple[str, str | None]:
    """The text of an uploaded CSV file, read whole, and what is wrong with it (or None).

    Never a part of a file: a cut-off last row would be imported wrong, so a file over
    ``INCLUSION_MAX_IMPORT_BYTES`` is refused."""
    limit = import_file_limit()
    content = upload.read(limit + 1)
    if len(content) > limit:
        return "", (
            f"The file is larger than {megabytes(limit)}, the most one import takes. "
            "Split it into smaller files and import each."
        )
    try:
        return content.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return "", "Upload a CSV file saved as UTF-8 text."


def import_text(form) -> str | None:
    """What an import form (a ``rows`` box and an ``upload`` field) was given: the uploaded
    file's text when a file came, else the pasted rows; None, with the reason under the
    upload field, when the file cannot be read."""
    upload = form.upload.data
    if upload and getattr(upload, "filename", ""):
        text, problem = uploaded_text(upload)
        if problem:
            form.upload.errors = [problem]
            return None
        return text
    return form.rows.data or ""
