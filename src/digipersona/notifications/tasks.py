"""Jobs of the notifications domain."""

from __future__ import annotations

import os
import socket
import uuid

from digipersona.notifications import outbox
from digipersona.notifications.delivery import Channels
from digipersona.worker import runtime
from digipersona.worker.registry import periodic

MAX_BATCHES = 20  # per run; what is left is the next run's


@periodic("notifications.deliver", every_seconds=10)
def deliver_notifications() -> int:
    """Send the outbox's due deliveries (email, webhook, push); returns how many were tried."""
    current = runtime.current()
    channels = Channels(current.settings, current.factory, current.cipher)
    owner = f"notify:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    total = 0
    for _ in range(MAX_BATCHES):
        claimed = outbox.deliver_due(channels, owner)
        if not claimed:
            break
        total += claimed
    outbox.purge(channels)
    return total
