"""Form bodies for HTML views, read as a dependency.

Views that touch the database are plain ``def`` (FastAPI runs them in its threadpool): an
``async def`` calling the synchronous session blocks the event loop for every other request
meanwhile. Reading a form needs ``await``, so it happens here, in a dependency, before the view.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData


async def read_form(request: Request) -> FormData:
    """The request's form fields (read once; Starlette keeps the parsed form on the request)."""
    return await request.form()


FormBody = Annotated[FormData, Depends(read_form)]
