"""Images in the web app: the editor's upload, alt text, order and removal, and the media library.

Every form here works without JavaScript; ``static/media.js`` adds drag and drop and uploads a
chosen or photographed image at once.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from digipersona.auth.dependencies import WebPrincipal
from digipersona.auth.permissions import Permission
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError, ValidationFailed
from digipersona.kit.words import plural
from digipersona.posts import library, service
from digipersona.posts.media import MAX_UPLOAD_BYTES
from digipersona.web.forms import CheckedForm, Form
from digipersona.web.templating import flash, render

router = APIRouter()
# Images one upload form may carry (each is checked and stored on its own).
MAX_FILES = 10


def _back(post_id: uuid.UUID) -> RedirectResponse:
    return RedirectResponse(f"/content/{post_id}#images", status_code=303)


def _uploads(form: Form) -> list[UploadFile]:
    files = form.files("file")
    if not files:
        raise ValidationFailed("Choose an image to upload.")
    if len(files) > MAX_FILES:
        raise ValidationFailed(f"Upload at most {MAX_FILES} images at once.")
    return files


def _read(upload: UploadFile) -> bytes:
    # Already spooled by the form parser (memory or a temporary file): a plain bounded read.
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            f"{upload.filename} is larger than {MAX_UPLOAD_BYTES // 1_048_576} MB."
        )
    return data


@router.post("/content/{post_id}/media")
def upload(
    post_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    form: CheckedForm,
) -> Response:
    alt_text = form.get("alt_text").strip()[:2000]
    try:
        files = _uploads(form)
        for upload_file in files:
            name = (upload_file.filename or "").replace("\x00", "") or "image"
            service.add_media(
                session,
                principal,
                post_id,
                data=_read(upload_file),
                filename=name,
                alt_text=alt_text,
            )
        flash(
            request,
            f"{plural(len(files), 'image')} added." + ("" if alt_text else " Add alt text."),
        )
    except DigipersonaError as exc:
        session.rollback()
        flash(request, exc.message, "error")
    return _back(post_id)


@router.post("/content/{post_id}/media/{media_id}")
def change(
    post_id: uuid.UUID,
    media_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    form: CheckedForm,
) -> Response:
    """One image's alt text (``action=alt``), order (``up``/``down``) or removal (``remove``)."""
    action = form.get("action")
    try:
        if action == "remove":
            service.remove_media(session, principal, post_id, media_id)
            flash(request, "Image removed (it stays in the media library).")
        elif action in ("up", "down"):
            position = int(form.get("position") or "0")
            target = position - 1 if action == "up" else position + 1
            service.update_media(session, principal, post_id, media_id, position=max(0, target))
        elif action == "alt":
            alt = form.get("alt_text")
            service.update_media(session, principal, post_id, media_id, alt_text=alt)
            flash(request, "Alt text saved.")
        else:
            flash(request, "Unknown action.", "error")
    except (DigipersonaError, ValueError) as exc:
        session.rollback()
        flash(request, getattr(exc, "message", None) or "Check the form.", "error")
    return _back(post_id)


@router.post("/content/{post_id}/media-reuse")
def reuse(
    post_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    form: CheckedForm,
) -> Response:
    try:
        service.reuse_media(session, principal, post_id, uuid.UUID(form.get("media_id")))
        flash(request, "Image added from the media library.")
    except (DigipersonaError, ValueError) as exc:
        session.rollback()
        flash(request, getattr(exc, "message", None) or "Choose an image.", "error")
    return _back(post_id)


@router.get("/media/{media_id}")
def image_file(media_id: uuid.UUID, principal: WebPrincipal, session: SessionDep) -> Response:
    """An image's bytes, for the editor and the library (another workspace's: 404)."""
    media = library.get_image(session, principal, media_id)
    return Response(
        media.data,
        media_type=media.mime_type,
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.get("/media")
def library_page(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    return render(
        request,
        "posts/media_library.html",
        {
            "active": "media",
            "images": library.library(session, principal),
            "limit": library.LIBRARY_LIMIT,
            "can_draft": principal.can(Permission.drafts),
        },
    )


@router.post("/media/{media_id}/delete")
def delete_image(
    media_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    form: CheckedForm,
) -> Response:
    try:
        library.delete_unused(session, principal, media_id)
        flash(request, "Image deleted.")
    except DigipersonaError as exc:
        session.rollback()
        flash(request, exc.message, "error")
    return RedirectResponse("/media", status_code=303)
