"""TOML documents from an image (Cargo.lock, Julia manifests): decoded strictly, never a traceback.

`tomllib` builds the whole document in memory, so callers bound the size they read (their
`max_file_size`); undecodable bytes, invalid TOML and absurd nesting are one `CatalogError` each.
"""

from __future__ import annotations

import tomllib
from typing import Any

from ci_security.errors import CatalogError


def load_toml(data: bytes) -> dict[str, Any]:
    """The document in `data`, or CatalogError saying why it is not one."""
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"not valid TOML: {exc}") from None
    except RecursionError:
        raise CatalogError("not valid TOML: nested too deeply") from None
