"""`oci:DIR[:NAME]` and `oci-archive:PATH[:NAME]` source: OCI image layouts, as a directory or a tar."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from ci_security.errors import ImageError
from ci_security.image.base import Image, SourceOptions
from ci_security.image.ocilayout import open_oci_archive, open_oci_dir
from ci_security.image.reference import ImageRef


class OciSource:
    """Read an OCI layout directory or archive."""

    transports: ClassVar[tuple[str, ...]] = ("oci", "oci-archive")

    def open(self, ref: ImageRef, options: SourceOptions) -> Image:
        assert ref.path is not None
        path = Path(ref.path)
        if ref.transport == "oci":
            return open_oci_dir(path, ref.name, ref.raw, options)
        if not path.is_file():
            raise ImageError(f"{ref.raw}: {path} does not exist or is not a file")
        return open_oci_archive(path, ref.name, ref.raw, options)
