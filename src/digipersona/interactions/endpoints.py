from __future__ import annotations

from fastapi import APIRouter

from digipersona.auth.dependencies import Reader
from digipersona.interactions import schemas
from digipersona.interactions.leads import score_lead

router = APIRouter(prefix="/api/v1/interactions", tags=["interactions"])


@router.post("/score", response_model=schemas.ScoreOut)
def score(body: schemas.ScoreIn, principal: Reader) -> schemas.ScoreOut:
    """Lead score 0-100 with the reasons; 50 or more means a likely sales lead."""
    result = score_lead(body.text, author_name=body.author_name, author_bio=body.author_bio)
    return schemas.ScoreOut(**result.to_dict())
