"""What reading back costs: one class attribute, used by polling and the metrics sync."""

from __future__ import annotations

from digipersona.platforms.base import Provider
from digipersona.platforms.registry import BUILTIN, get_provider_class


def test_x_bills_each_post_read_and_the_others_are_free() -> None:
    assert Provider.read_cost_usd == 0.0
    costs = {name: get_provider_class(name).read_cost_usd for name in BUILTIN}
    assert costs == {"linkedin": 0.0, "x": 0.005, "bluesky": 0.0, "webhook": 0.0}
    assert not hasattr(get_provider_class("x"), "metrics_read_cost_usd")
