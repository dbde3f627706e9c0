"""Which structure and topic each of a request's drafts gets; shared by every provider."""

from __future__ import annotations

import random
from dataclasses import dataclass

from digipersona.generation.base import STRUCTURES, DraftRequest


@dataclass(frozen=True)
class DraftPlan:
    """The structure and topic of one draft, plus the seed that varies its wording."""

    index: int
    structure: str
    topic: str
    seed: int


def rng_for(seed: int | None) -> random.Random:
    """A seeded generator, or an unseeded one when the caller wants variety."""
    return random.Random(seed) if seed is not None else random.Random()


def plan_drafts(req: DraftRequest) -> list[DraftPlan]:
    """Spread the drafts over distinct structures and the persona's topics, reproducibly per seed.

    A pinned structure applies to every draft (the caller asked for it); otherwise no structure
    repeats within one request (there are more structures than the maximum draft count).
    """
    rng = rng_for(req.seed)
    if req.structure:
        structures = [req.structure] * req.count
    else:
        order = list(STRUCTURES)
        rng.shuffle(order)
        structures = order[: req.count]
    if req.topic:
        topics = [req.topic] * req.count
    elif req.persona.topics:
        pool = list(req.persona.topics)
        rng.shuffle(pool)
        topics = [pool[i % len(pool)] for i in range(req.count)]
    else:
        topics = [""] * req.count
    return [
        DraftPlan(index=i, structure=structures[i], topic=topics[i], seed=rng.getrandbits(32))
        for i in range(req.count)
    ]
