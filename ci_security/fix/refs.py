"""Every image reference of a repository a base-image fix could change, and how to change it in place.

What is looked at (each reference becomes a use or a skip with the reason):

- every `FROM` of every Dockerfile the manifest checks find (`Dockerfile`, `Containerfile`,
  `*.Dockerfile`, `Dockerfile.*`, `.gitignore`d and vendored trees left out). The reference is read
  with the global `ARG`s substituted (`FROM python:${PY}-slim`); `--platform` is kept (a literal one
  decides the digest to pin and the image to scan); `@sha256:` digests with or without a tag are
  kept; `FROM <stage>` and `FROM scratch` are skipped, and so is a reference that still holds a
  variable without a default;
- `image:` of every container (init and ephemeral ones too) of every Kubernetes workload;
- `image:` of every compose service that has no `build:` (with `build:` it names the image the
  service builds, not one it pulls), as Renovate does;
- `image:` and `services:` (a string or `name:`) of `.gitlab-ci.yml` at the repository root: the
  top level, `default:` and every job. Values with CI variables (`$CI_REGISTRY_IMAGE`) are skipped.

Edits are in place, byte for byte: only the tag and/or digest text changes, so formatting,
comments, quoting and line ends stay as they are. In a Dockerfile the text that changes is found
where it is written: in the `FROM` word itself, or, when the tag comes from an `ARG` default, on
that `ARG` line (the gap Dependabot never closed). The part found must occur exactly once among those
places; otherwise the reference is skipped with the reason. Every edit is checked by parsing the
new text again: the edited references must now resolve to the proposed one and nothing else may
change (another stage, another key of the YAML document), or the edit is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ci_security import limits
from ci_security.errors import InvalidReferenceError
from ci_security.fix import manifests
from ci_security.image.reference import DockerReference, parse_docker_reference
from ci_security.models.fix import FixSkip

Kind = Literal["dockerfile", "kubernetes", "compose", "gitlab-ci"]
GITLAB_CI_FILES = (".gitlab-ci.yml", ".gitlab-ci.yaml")
# Top-level keys of .gitlab-ci.yml that are not jobs (docs.gitlab.com/ci/yaml, "Global keywords").
GITLAB_GLOBAL_KEYS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "spec", "image", "services", "cache",
     "before_script", "after_script", "pages"}
)  # fmt: skip
_VARIABLE = re.compile(r"\$(\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))")
_TEMPLATE = ("{{", "$")


class EditError(Exception):
    """The reference cannot be changed in place; the message says why."""


@dataclass(frozen=True, slots=True)
class ImageUse:
    """One reference to an image: in `path` (repository-relative) at `line`, `written` as in the
    file and `reference` as resolved (ARGs substituted). `where` says what uses it, for people.
    """

    path: str
    line: int
    kind: Kind
    written: str
    reference: str
    where: str
    platform: str | None = None  # a literal `--platform`
    stage: int | None = None  # Dockerfile stage index
    final: bool = False  # the last stage of its Dockerfile
    yaml_path: tuple[int, tuple[str | int, ...]] | None = None  # (document, key path) in YAML files

    @property
    def docker(self) -> DockerReference:
        return parse_docker_reference(self.reference)


@dataclass(frozen=True, slots=True)
class RepoFile:
    """A file of the repository as read: its text exactly (line ends and BOM kept)."""

    path: str
    disk: Path
    text: str
    executable: bool


@dataclass
class Found:
    """What `find_uses` found: the uses, the skips, and the files read (by repository path)."""

    uses: list[ImageUse]
    skipped: list[FixSkip]
    files: dict[str, RepoFile]


def split_reference(text: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of a reference as written: the digest after `@`, the tag after the last
    `:` unless a `/` follows it (`host:5000/repo` has a port, no tag).
    """
    rest, _, digest = text.partition("@")
    colon, slash = rest.rfind(":"), rest.rfind("/")
    if colon > slash:
        return rest[:colon], rest[colon + 1 :], digest or None
    return rest, None, digest or None


def join_reference(name: str, tag: str | None, digest: str | None) -> str:
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


# --- reading the repository ------------------------------------------------------------------------


def read_file(disk: Path, shown: str) -> RepoFile:
    """The file's text, exactly; `EditError` when it is too large, unreadable or not UTF-8."""
    try:
        size = disk.stat().st_size
        if size > limits.active().manifest_bytes:
            raise EditError(f"not read: larger than the manifest-bytes limit ({size:,} bytes)")
        data = disk.read_bytes()
        executable = bool(disk.stat().st_mode & 0o111)
    except OSError as exc:
        raise EditError(f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditError(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    return RepoFile(shown, disk, text, executable)


def find_uses(root: Path) -> Found:
    """Every image reference under `root` (see the module docstring), at most `fix-references`."""
    found = Found([], [], {})
    cap = limits.active().fix_references
    candidates = [(m.path, m.shown) for m in manifests.discover([root], root)]
    for name in GITLAB_CI_FILES:
        present = (root / name).is_file() and not (root / name).is_symlink()
        if present and all(shown != name for _, shown in candidates):
            candidates.append((root / name, name))
    for disk, shown in candidates:
        if len(found.uses) + len(found.skipped) >= cap:
            found.skipped.append(
                FixSkip(file=shown, line=1, reason=f"not read: the fix-references limit ({cap}) was reached")
            )
            continue
        try:
            repo_file = read_file(disk, shown)
        except EditError as exc:
            found.skipped.append(FixSkip(file=shown, line=1, reason=str(exc)))
            continue
        uses, skips = _uses_in(repo_file)
        if uses or skips:
            found.files[shown] = repo_file
        found.uses.extend(uses)
        found.skipped.extend(skips)
    return found


def _uses_in(repo_file: RepoFile) -> tuple[list[ImageUse], list[FixSkip]]:
    if repo_file.path in GITLAB_CI_FILES:
        return _yaml_uses(repo_file, "gitlab-ci")
    kind = manifests.manifest_kind(repo_file.path)
    if kind == "dockerfile":
        return _dockerfile_uses(repo_file)
    if kind == "yaml":
        return _yaml_uses(repo_file, None)
    return [], []


# --- Dockerfiles -----------------------------------------------------------------------------------


def _dockerfile_uses(repo_file: RepoFile) -> tuple[list[ImageUse], list[FixSkip]]:
    dockerfile = manifests.parse_dockerfile(repo_file.text, repo_file.path)
    uses: list[ImageUse] = []
    skips: list[FixSkip] = []
    last = len(dockerfile.stages) - 1
    for stage in dockerfile.stages:
        line = stage.from_line
        label = f"stage {stage.name}" if stage.name else f"stage {stage.index}"

        def skip(reason: str, stage_base: str = stage.base_raw, at: int = line) -> None:
            skips.append(FixSkip(file=repo_file.path, line=at, reason=reason, reference=stage_base))

        if not stage.base_raw:
            skip("FROM names no image")
            continue
        if stage.base.lower() == "scratch":
            skip("scratch is the empty image: nothing to update")
            continue
        parent = dockerfile.parent_of(stage)
        if parent is not None:
            skip(f"FROM {stage.base} is the build stage {parent.name or parent.index} of this file")
            continue
        if "$" in stage.base:
            skip(f"{stage.base_raw} uses a build argument that has no default here")
            continue
        try:
            parse_docker_reference(stage.base)
        except InvalidReferenceError as exc:
            skip(str(exc))
            continue
        platform = stage.platform if stage.platform and "$" not in stage.platform else None
        uses.append(
            ImageUse(
                path=repo_file.path,
                line=line,
                kind="dockerfile",
                written=stage.base_raw,
                reference=stage.base,
                where=f"FROM of {label}",
                platform=platform,
                stage=stage.index,
                final=stage.index == last,
            )
        )
    return uses, skips


@dataclass(frozen=True, slots=True)
class _Region:
    """A stretch of the file's text where a part of a reference may be written: `start`/`end` are
    character offsets; `what` names it in messages.
    """

    start: int
    end: int
    what: str


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for match in re.finditer("\n", text):
        offsets.append(match.end())
    return offsets


def _words(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Whitespace-separated words of `text[start:end]` as (start, end) offsets; quotes keep spaces."""
    i = start
    while i < end:
        while i < end and text[i] in " \t\r\n":
            i += 1
        if i >= end:
            return
        begin, quote = i, None
        while i < end and (quote is not None or text[i] not in " \t\r\n"):
            if quote is None and text[i] in "'\"":
                quote = text[i]
            elif text[i] == quote:
                quote = None
            i += 1
        yield begin, i


def _instruction_words(
    text: str, offsets: list[int], first: int, last: int, escape: str
) -> list[tuple[int, int]]:
    """The words of an instruction on physical lines `first`..`last` (1-based), comment lines and
    line-continuation characters left out.
    """
    found = []
    for number in range(first, last + 1):
        start = offsets[number - 1]
        end = offsets[number] if number < len(offsets) else len(text)
        line = text[start:end]
        if line.lstrip().startswith("#") and number != first:
            continue
        words = list(_words(text, start, end))
        if words and text[words[-1][0] : words[-1][1]] == escape:
            words.pop()
        elif words and text[words[-1][1] - 1] == escape and number != last:
            words[-1] = (words[-1][0], words[-1][1] - 1)
        found.extend(words)
    return found


def _literal_regions(
    text: str, start: int, end: int, what: str
) -> tuple[list[_Region], set[str], list[tuple[str, _Region]]]:
    """The parts of `text[start:end]` outside `$VAR`/`${…}` expressions, the variables named, and the
    default words of `${VAR:-word}`/`${VAR-word}` expressions (used when VAR has no value).
    """
    regions, names, defaults = [], set(), []
    cursor = start
    for match in _VARIABLE.finditer(text, start, end):
        if match.start() > cursor:
            regions.append(_Region(cursor, match.start(), what))
        name = match[2] or match[3]
        names.add(name)
        if match[2]:
            inner = match.start() + 2 + len(name)  # after `${NAME`
            for op in (":-", "-"):
                if text.startswith(op, inner):
                    defaults.append(
                        (name, _Region(inner + len(op), match.end() - 1, f"the default of ${{{name}}}"))
                    )
                    break
        cursor = match.end()
    if cursor < end:
        regions.append(_Region(cursor, end, what))
    return regions, names, defaults


def _dockerfile_regions(text: str, stage_index: int) -> list[_Region]:
    """Where the reference of stage `stage_index` is written: the literal parts of its FROM word and
    the default values of the global ARGs that word uses.
    """
    dockerfile = manifests.parse_dockerfile(text, "")
    stage = dockerfile.stages[stage_index]
    offsets = _line_offsets(text)
    head = next(i for i in dockerfile.instructions if i.keyword == "FROM" and i.start_line == stage.from_line)
    words = _instruction_words(text, offsets, head.start_line, head.end_line, dockerfile.escape)
    image_word = None
    for begin, end in words[1:]:  # words[0] is the keyword
        if text.startswith("--", begin):
            continue
        image_word = (begin, end)
        break
    if image_word is None or text[image_word[0] : image_word[1]] != stage.base_raw:
        raise EditError("the FROM line is written in a form that cannot be edited in place")
    regions, names, defaults = _literal_regions(text, *image_word, f"FROM line {stage.from_line}")
    # ARG values may name other ARGs (ARG IMAGE=python:${VERSION}): follow them, each once.
    pending, seen = sorted(names), set()
    declared_names = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        declared = _global_arg(text, offsets, dockerfile, name)
        if declared is None:
            continue
        declared_names.add(name)
        arg_regions, nested, arg_defaults = declared
        regions.extend(arg_regions)
        defaults.extend(arg_defaults)
        pending.extend(sorted(nested - seen))
    regions.extend(region for name, region in defaults if name not in declared_names)
    return regions


def _global_arg(
    text: str, offsets: list[int], dockerfile: manifests.Dockerfile, name: str
) -> tuple[list[_Region], set[str], list[tuple[str, _Region]]] | None:
    """Where the value of the last global `ARG name=value` before the first FROM is written."""
    found = None
    for inst in dockerfile.instructions:
        if inst.keyword == "FROM":
            break
        if inst.keyword != "ARG":
            continue
        words = _instruction_words(text, offsets, inst.start_line, inst.end_line, dockerfile.escape)
        for begin, end in words[1:]:
            if text.startswith(f"{name}=", begin):
                value_start = begin + len(name) + 1
                found = _literal_regions(text, value_start, end, f"ARG {name} on line {inst.start_line}")
    return found


def _replace_once(text: str, regions: Sequence[_Region], old: str, new: str) -> str | None:
    """`text` with the one occurrence of `old` in `regions` replaced; None when there is none;
    `EditError` when there are several (which one is meant cannot be told).
    """
    hits = []
    for region in regions:
        at = text.find(old, region.start, region.end)
        while at >= 0:
            before = text[at - 1] if at > region.start else ""
            after = text[at + len(old)] if at + len(old) < region.end else ""
            # 3.1 inside 13.1 or 3.11 is not the tag: the match must not continue a version number
            if not (before.isalnum() or before == ".") and not (after.isdigit() or after == "."):
                hits.append((at, region))
            at = text.find(old, at + 1, region.end)
    if not hits:
        return None
    if len(hits) > 1:
        places = ", ".join(sorted({region.what for _, region in hits}))
        raise EditError(
            f"{old!r} is written in {len(hits)} places ({places}); which one to change is unclear"
        )
    at = hits[0][0]
    return text[:at] + new + text[at + len(old) :]


def _pieces(current: str, proposed: str) -> tuple[list[tuple[str, str]], str | None]:
    """What changes from `current` to `proposed` (both resolved): replacement pairs to try, in order
    (the whole tag, then only its version), and a digest to add where there was none.
    """
    name, tag, digest = split_reference(current)
    new_name, new_tag, new_digest = split_reference(proposed)
    if name != new_name:
        raise EditError(f"{proposed} is another image than {current}")
    pairs: list[tuple[str, str]] = []
    if tag != new_tag:
        if not tag or not new_tag:
            raise EditError("adding or removing a tag is not an update")
        pairs.append((tag, new_tag))
    added = None
    if digest != new_digest:
        if digest and new_digest:
            pairs.append((digest, new_digest))
        elif new_digest:
            added = new_digest
        else:
            raise EditError("removing a digest is not an update")
    return pairs, added


def _version_parts(old: str, new: str) -> tuple[str, str] | None:
    """The version before the flavour suffix of two tags with the same suffix (`3.11` of `3.11-slim`)."""
    from ci_security.fix.tags import parse_tag

    before, after = parse_tag(old), parse_tag(new)
    if before is None or after is None or before.suffix != after.suffix or not before.suffix:
        return None
    return before.version_text, after.version_text


def edit_dockerfile(text: str, stages: Sequence[int], current: str, proposed: str) -> str:
    """`text` with the references of `stages` (all resolving to `current`) changed to `proposed`."""
    pairs, added = _pieces(current, proposed)
    for index in stages:
        if manifests.parse_dockerfile(text, "").stages[index].base == proposed:
            continue  # an ARG another stage shares already changed it
        for old, new in pairs:
            regions = _dockerfile_regions(text, index)
            changed = _replace_once(text, regions, old, new)
            if changed is None:
                parts = _version_parts(old, new)
                if parts is not None:
                    changed = _replace_once(text, regions, *parts)
            if changed is None:
                raise EditError(f"cannot find where {old!r} is written (FROM line or a global ARG default)")
            text = changed
        if added is not None:
            text = _add_digest(text, index, added)
    _check_dockerfile(text, stages, proposed)
    return text


def _add_digest(text: str, index: int, digest: str) -> str:
    """Pin a FROM word without a digest: `@digest` right after it."""
    regions = _dockerfile_regions(text, index)
    end = max(region.end for region in regions if region.what.startswith("FROM"))
    return text[:end] + f"@{digest}" + text[end:]


def _check_dockerfile(text: str, stages: Sequence[int], proposed: str) -> None:
    """The edit did what was meant and nothing else (see the module docstring)."""
    after = manifests.parse_dockerfile(text, "")
    for index in stages:
        if index >= len(after.stages) or after.stages[index].base != proposed:
            raise EditError("the edited Dockerfile does not resolve to the proposed image")


def check_only_these_changed(
    before: str, after: str, stages: Sequence[int], current: str, proposed: str
) -> None:
    """Other stages keep their base, unless they used `current` and now use `proposed` too."""
    old = manifests.parse_dockerfile(before, "")
    new = manifests.parse_dockerfile(after, "")
    if len(old.stages) != len(new.stages):
        raise EditError("the edit changed the Dockerfile's stages")
    for was, now in zip(old.stages, new.stages, strict=True):
        if was.index in stages or was.base == now.base:
            continue
        if not (was.base == current and now.base == proposed):
            raise EditError(f"the edit would also change stage {was.name or was.index} ({was.base})")


# --- YAML files ------------------------------------------------------------------------------------


def _yaml_uses(repo_file: RepoFile, kind: Kind | None) -> tuple[list[ImageUse], list[FixSkip]]:
    try:
        documents = manifests.load_documents(repo_file.text)
    except manifests.YamlSyntaxError as exc:
        if kind == "gitlab-ci":
            return [], [FixSkip(file=repo_file.path, line=exc.line, reason=f"not valid YAML: {exc.message}")]
        return [], []  # not a manifest the checks would read either
    except manifests.YamlTooComplexError as exc:
        return [], [FixSkip(file=repo_file.path, line=1, reason=f"not read: {exc}")]
    found: list[
        tuple[Kind, int, tuple[str | int, ...], Any, str, int]
    ] = []  # kind, doc, path, value, where, line
    if kind == "gitlab-ci":
        for doc in documents:
            for path, value, where in _gitlab_images(doc.data):
                found.append(("gitlab-ci", doc.index, path, value, where, doc.positions.line(path)))
    else:
        objects = manifests.objects_in(repo_file.path, documents)
        for obj in objects:
            for container in obj.containers():
                path = (*obj.base, *container.path, "image")
                if "image" in container.data:
                    found.append(
                        (
                            "kubernetes",
                            obj.doc_index,
                            path,
                            container.data["image"],
                            f"{container.label} of {obj.resource}",
                            obj.positions.line(path),
                        )
                    )
        compose = manifests.compose_from(repo_file.path, documents) if not objects else None
        if compose is not None:
            for service in compose.services():
                if "image" not in service.data:
                    continue
                path = (*service.path, "image")
                found.append(
                    (
                        "compose",
                        service.document,
                        path,
                        service.data["image"],
                        service.resource,
                        service.line("image"),
                    )
                )
    uses: list[ImageUse] = []
    skips: list[FixSkip] = []
    compose_builds = _compose_builds(documents) if any(k == "compose" for k, *_ in found) else set()
    for use_kind, doc_index, path, value, where, line in found:
        shown = value if isinstance(value, str) else ""

        def skip(reason: str, at: int = line, ref: str = shown) -> None:
            skips.append(FixSkip(file=repo_file.path, line=at, reason=reason, reference=ref))

        if not isinstance(value, str) or not value.strip():
            skip("the image is not a string")
            continue
        if use_kind == "compose" and (doc_index, path[1]) in compose_builds:
            skip(f"{where} is built here (build:): image names what it builds")
            continue
        if any(mark in value for mark in _TEMPLATE):
            skip("the image holds a variable or template expression")
            continue
        try:
            parse_docker_reference(value)
        except InvalidReferenceError as exc:
            skip(str(exc))
            continue
        uses.append(
            ImageUse(
                path=repo_file.path,
                line=line,
                kind=use_kind,
                written=value,
                reference=value,
                where=where,
                yaml_path=(doc_index, path),
            )
        )
    return uses, skips


def _compose_builds(documents: Sequence[manifests.YamlDocument]) -> set[tuple[int, str]]:
    """(document, service) pairs whose service has `build:` in that layer or another."""
    built: set[str] = set()
    for doc in documents:
        services = doc.data.get("services") if isinstance(doc.data, dict) else None
        if isinstance(services, dict):
            built.update(
                str(name) for name, data in services.items() if isinstance(data, dict) and "build" in data
            )
    return {(doc.index, name) for doc in documents for name in built}


def _gitlab_images(data: Any) -> Iterator[tuple[tuple[str | int, ...], Any, str]]:
    """(key path, value, what) of every image a GitLab CI file names."""
    if not isinstance(data, dict):
        return

    def images(
        owner: dict[Any, Any], base: tuple[str | int, ...], what: str
    ) -> Iterator[tuple[tuple[str | int, ...], Any, str]]:
        image = owner.get("image")
        if isinstance(image, dict):
            if "name" in image:
                yield (*base, "image", "name"), image["name"], f"image of {what}"
        elif image is not None:
            yield (*base, "image"), image, f"image of {what}"
        services = owner.get("services")
        if isinstance(services, list):
            for i, service in enumerate(services):
                if isinstance(service, dict):
                    if "name" in service:
                        yield (*base, "services", i, "name"), service["name"], f"service of {what}"
                else:
                    yield (*base, "services", i), service, f"service of {what}"

    yield from images(data, (), "the pipeline")
    default = data.get("default")
    if isinstance(default, dict):
        yield from images(default, ("default",), "default")
    for key, value in data.items():
        if isinstance(key, str) and key not in GITLAB_GLOBAL_KEYS and isinstance(value, dict):
            yield from images(value, (key,), f"job {key}")


def edit_yaml(
    text: str, line: int, doc_index: int, path: tuple[str | int, ...], written: str, proposed: str
) -> str:
    """`text` with the value `written` on `line` changed to `proposed`, and nothing else."""
    offsets = _line_offsets(text)
    start = offsets[line - 1]
    end = offsets[line] if line < len(offsets) else len(text)
    hits = [m.start() for m in re.finditer(re.escape(written), text[start:end])]
    hits = [
        at
        for at in hits
        if (at == 0 or text[start + at - 1] in " \t'\"-:[{,")
        and (start + at + len(written) >= end or text[start + at + len(written)] in " \t'\"#,]}\r\n")
    ]
    if len(hits) != 1:
        raise EditError("the image value is written in a form that cannot be edited in place")
    at = start + hits[0]
    new_text = text[:at] + proposed + text[at + len(written) :]
    try:
        before = manifests.load_documents(text)
        after = manifests.load_documents(new_text)
    except (manifests.YamlSyntaxError, manifests.YamlTooComplexError) as exc:
        raise EditError(f"the edited file does not read back: {exc}") from None
    expected = [
        _with_value(doc.data, path, proposed) if doc.index == doc_index else doc.data for doc in before
    ]
    if [doc.data for doc in after] != expected:
        raise EditError("the edit would change more than the image value")
    return new_text


def _with_value(data: Any, path: tuple[str | int, ...], value: str) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {k: (_with_value(v, rest, value) if k == head else v) for k, v in data.items()}
    if isinstance(data, list) and isinstance(head, int):
        return [_with_value(v, rest, value) if i == head else v for i, v in enumerate(data)]
    return data


def edit(text: str, uses: Sequence[ImageUse], proposed: str) -> str:
    """`text` with every one of `uses` (of one file, all resolving to the same reference) changed to
    `proposed`; `EditError` when that cannot be done exactly.
    """
    first = uses[0]
    if first.kind == "dockerfile":
        stages = [use.stage for use in uses if use.stage is not None]
        new_text = edit_dockerfile(text, stages, first.reference, proposed)
        check_only_these_changed(text, new_text, stages, first.reference, proposed)
        return new_text
    for use in sorted(uses, key=lambda u: u.line, reverse=True):
        assert use.yaml_path is not None
        name, _, _ = split_reference(use.written)
        new_name, new_tag, new_digest = split_reference(proposed)
        written_new = join_reference(name, new_tag, new_digest) if name == new_name else proposed
        text = edit_yaml(text, use.line, *use.yaml_path, use.written, written_new)
    return text
