"""Reading the item elements of small XML manifests from an image (NuGet `packages.config`,
MSBuild `*.props`), safely.

An image's XML is hostile: a document type declaration is refused outright (no NuGet or MSBuild
file needs one, and it is where entity expansion bombs and external entities live), expat never
fetches anything, and the parse is streaming, so depth costs no stack. Only the elements asked
for are returned, with their attributes and the text of their direct children
(`<PackageReference Include="X"><Version>1.0</Version></PackageReference>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from ci_security.errors import CatalogError


@dataclass(slots=True)
class Item:
    """One wanted element: its (local) tag, attributes, and the text of its direct children."""

    tag: str
    attributes: dict[str, str]
    children: dict[str, str] = field(default_factory=dict)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def items(data: bytes, wanted: frozenset[str]) -> list[Item]:
    """The elements of `data` whose local tag is in `wanted`, in document order."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    found: list[Item] = []
    stack: list[Item | None] = []  # per open element: the wanted item it is, if it is one
    text: list[str] = []

    def refuse(*_: object) -> None:
        raise CatalogError("has a document type declaration (refused: not needed by this format)")

    def start(name: str, attributes: dict[str, str]) -> None:
        tag = _local(name)
        item = None
        if tag in wanted:
            item = Item(tag, {_local(k): v for k, v in attributes.items()})
            found.append(item)
        stack.append(item)
        text.clear()

    def end(name: str) -> None:
        item = stack.pop()
        if item is None and stack and stack[-1] is not None:
            stack[-1].children[_local(name)] = "".join(text).strip()
        text.clear()

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise CatalogError(
            f"not well-formed XML: {expat.ErrorString(exc.code)} at line {exc.lineno}"
        ) from None
    return found
