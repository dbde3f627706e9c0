"""A synthetic posting history with a real, known signal (for the prediction's evaluation).

Engagement = persona/platform scale x timing x content effects x log-normal noise:
Tuesday/Thursday mornings do 2.2x, nights and weekends 0.5x; an image 1.8x, a question 1.4x,
a link 0.6x, three or more hashtags 0.7x. With ``signal=False`` the same posts get engagement
from noise alone (no feature carries information), which a fair model cannot beat the baseline on.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from digipersona.analytics import prediction

WORDS = [
    "teams",
    "platform",
    "shipping",
    "review",
    "design",
    "ops",
    "data",
    "cloud",
    "onboarding",
    "hiring",
]


def synthetic_history(
    n: int = 400, *, seed: int = 7, signal: bool = True, noise: float = 0.45
) -> list[prediction.Example]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    examples = []
    for _ in range(n):
        persona = rng.choice(("alpha", "beta"))
        platform = rng.choice(("x", "linkedin"))
        at = start + timedelta(minutes=30 * rng.randrange(0, 48 * 300))
        media = rng.random() < 0.4
        question = rng.random() < 0.3
        link = rng.random() < 0.3
        tags = rng.choice((0, 0, 1, 2, 4))
        words = rng.choice((8, 25, 50))
        parts = 2 if rng.random() < 0.15 else 1
        text = " ".join(rng.choice(WORDS) for _ in range(words))
        if question:
            text += " what do you think?"
        if link:
            text += " https://example.com/read"
        text += "".join(f" #{rng.choice(WORDS)}" for _ in range(tags))
        effect = 1.0
        if at.weekday() in (1, 3) and 6 <= at.hour < 10:
            effect *= 2.2
        if at.hour < 6 or at.weekday() >= 5:
            effect *= 0.5
        effect *= 1.8 if media else 1.0
        effect *= 1.4 if question else 1.0
        effect *= 0.6 if link else 1.0
        effect *= 0.7 if tags >= 3 else 1.0
        scale = {"x": 20, "linkedin": 60}[platform] * {"alpha": 1, "beta": 3}[persona]
        engagement = scale * (effect if signal else 1.0) * rng.lognormvariate(0, noise)
        examples.append(
            prediction.Example(
                at=at,
                persona=persona,
                platform=platform,
                features=prediction.features(
                    text, at, platform=platform, has_media=media, parts=parts
                ),
                engagement=round(engagement),
            )
        )
    return examples
