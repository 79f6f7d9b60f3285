"""What one image scan may decompress and write to disk, counted across layers and threads.

Each layer is bounded on its own by the walker (`layer_bytes`, `compression_ratio`); this module
holds the totals that span the whole image: bytes decompressed from all layers (`image_bytes`) and
bytes on disk in the private temp dir (`spool_bytes`: a decompressed outer archive, downloaded
blobs, files spooled for catalogers). Layers are read by several threads, so the counters are
locked. A source creates one budget per opened image (`SourceOptions.budget`) and the catalog
runner charges the same one.
"""

from __future__ import annotations

import threading

from ci_security import limits
from ci_security.errors import LayerError
from ci_security.limits import LimitExceededError

# The ratio between what a compressed stream produced and what it consumed is judged only past this
# many output bytes: tiny or highly repetitive files legitimately compress far better than 1000:1.
RATIO_GRACE = 64 << 20


class LayerLimitError(LimitExceededError, LayerError):
    """A limit went past while a layer was read: the scan stops, as it does for a corrupt layer
    (a cataloger reading the member does not turn it into a warning).
    """


class ImageBudget:
    """Thread-safe running totals for one image."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.decompressed = 0
        self.spooled = 0
        self.spooled_peak = 0

    def charge_decompressed(self, n: int, where: str) -> None:
        """Count `n` more bytes of layer content; refuse the image past `image_bytes`."""
        with self._lock:
            self.decompressed += n
            total = self.decompressed
        if total > limits.active().image_bytes:
            raise LayerLimitError(where, "image_bytes", f"layers decompress to more than {total:,} bytes")

    def charge_spool(self, n: int, where: str) -> None:
        """Count `n` more bytes written to the private temp dir; refuse past `spool_bytes`."""
        with self._lock:
            self.spooled += n
            total = self.spooled
            self.spooled_peak = max(self.spooled_peak, total)
        if total > limits.active().spool_bytes:
            raise LimitExceededError(where, "spool_bytes", f"{total:,} bytes written to the temp dir")

    def release_spool(self, n: int) -> None:
        """`n` bytes written earlier were deleted again (a spooled file closed)."""
        with self._lock:
            self.spooled = max(0, self.spooled - n)


def check_ratio(produced: int, consumed: int, where: str) -> None:
    """Refuse a compressed stream whose output outgrows its input by more than `compression_ratio`,
    once it has produced more than `RATIO_GRACE` bytes (a decompression bomb).
    """
    if produced > RATIO_GRACE and produced > limits.active().compression_ratio * max(consumed, 1):
        raise LayerLimitError(
            where, "compression_ratio", f"{consumed:,} compressed bytes expanded to {produced:,}"
        )
