"""Form bodies for HTML views, read (and CSRF-checked) as a dependency.

Views that touch the database are plain ``def`` (FastAPI runs them in its threadpool): an
``async def`` calling the synchronous session blocks the event loop for every other request
meanwhile. Reading a form needs ``await``, so it happens here, in a dependency, before the view.
A view that changes state takes ``CheckedForm``: the form arrives with its CSRF token checked
(a 403 otherwise), every value as text.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile

from digipersona.web.csrf import check_csrf

CSRF_FIELD = "csrf_token"


async def read_form(request: Request) -> FormData:
    """The request's form fields (read once; Starlette keeps the parsed form on the request)."""
    return await request.form()


FormBody = Annotated[FormData, Depends(read_form)]


class Form:
    """A submitted form whose CSRF token was checked; values as text, the token left out."""

    def __init__(self, data: FormData) -> None:
        self._data = data

    def __contains__(self, key: object) -> bool:
        return key != CSRF_FIELD and key in self._data

    def get(self, key: str, default: str = "") -> str:
        """The field's value (the last one if it was sent twice), or ``default``."""
        if key == CSRF_FIELD or key not in self._data:
            return default
        return str(self._data[key])

    def getlist(self, key: str) -> list[str]:
        """Every value sent for the field (checkboxes, multiple selects), in order."""
        return [] if key == CSRF_FIELD else [str(v) for v in self._data.getlist(key)]

    def files(self, key: str) -> list[UploadFile]:
        """The files sent in the field (an empty file input sends none), in order."""
        return [v for v in self._data.getlist(key) if isinstance(v, UploadFile) and v.filename]

    def file(self, key: str) -> UploadFile | None:
        """The file sent as ``key`` (a multipart form), or None when none was chosen."""
        found = self.files(key)
        return found[0] if found else None

    def fields(self) -> dict[str, str]:
        """Each field's value (the last one if it was sent twice)."""
        return {k: self.get(k) for k in self._data if k != CSRF_FIELD}

    def lists(self) -> dict[str, list[str]]:
        """Each field's values, in order."""
        return {k: self.getlist(k) for k in self._data if k != CSRF_FIELD}


async def checked_form(request: Request) -> Form:
    """The request's form, refused (403) unless it carries the session's CSRF token."""
    data = await request.form()
    check_csrf(request, str(data.get(CSRF_FIELD) or ""))
    return Form(data)


CheckedForm = Annotated[Form, Depends(checked_form)]
