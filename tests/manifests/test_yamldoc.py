"""YAML with positions: scalars per YAML 1.2's core schema, the line of every key and item, the
nearest-parent fallback, merge keys, multi-document streams, syntax errors with their line, and
hostile input (too large, alias bombs, recursive aliases, deep nesting) refused quickly; the
configuration reading (`load_config`, for the policy file): columns and value positions, first value
of a duplicate kept and every key problem reported, one document only."""

from __future__ import annotations

import math

import pytest

from ci_security import limits
from ci_security.manifests.yamldoc import (
    KeyProblem,
    YamlSyntaxError,
    YamlTooComplexError,
    load_config,
    load_documents,
    walk,
)

MAX_BYTES = limits.DEFAULTS.manifest_bytes
MAX_DEPTH = limits.DEFAULTS.nesting_depth


def data(text: str):
    documents = load_documents(text)
    assert len(documents) == 1
    return documents[0].data


def lines(text: str):
    return load_documents(text)[0].positions


# --- scalars: YAML 1.2 core schema ---

SCALARS = [
    ("true", True),
    ("True", True),
    ("FALSE", False),
    ("yes", "yes"),
    ("no", "no"),
    ("on", "on"),
    ("off", "off"),
    ("y", "y"),
    ("null", None),
    ("Null", None),
    ("~", None),
    ("", None),
    ("42", 42),
    ("-7", -7),
    ("+3", 3),
    ("0", 0),
    ("0777", 777),
    ("0x1F", 31),
    ("0o17", 15),
    ("3.5", 3.5),
    ("-0.25", -0.25),
    (".5", 0.5),
    ("1e3", 1000.0),
    ("6.02E+23", 6.02e23),
    (".inf", math.inf),
    ("-.Inf", -math.inf),
    ("1.2.3", "1.2.3"),
    ("2024-01-31", "2024-01-31"),
    ("12:30", "12:30"),
    (".", "."),
    ("0x", "0x"),
    ("v1", "v1"),
    ("'true'", "true"),
    ('"42"', "42"),
    ("!!str 42", "42"),
    ("!!str true", "true"),
    ("'~'", "~"),
]


@pytest.mark.parametrize(("source", "expected"), SCALARS, ids=[s or "empty" for s, _ in SCALARS])
def test_scalars_follow_the_yaml_1_2_core_schema(source, expected):
    value = data(f"key: {source}\n")["key"]
    assert value == expected
    assert type(value) is type(expected)


def test_nan_is_a_float():
    assert math.isnan(data("key: .NaN\n")["key"])


def test_block_scalars_stay_strings():
    assert data("key: |\n  true\n  42\n") == {"key": "true\n42\n"}
    assert data("key: >-\n  folded\n  text\n") == {"key": "folded text"}


def test_non_string_keys_keep_their_type():
    assert data("2: two\ntrue: yes\n~: none\n") == {2: "two", True: "yes", None: "none"}


# --- positions ---

POD = """\
# a comment before the document
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx:1.27
    -
      name: sidecar
      ports: [{containerPort: 80}, {containerPort: 443}]
      args:
        - --verbose
"""


def test_every_key_and_item_has_its_line():
    positions = lines(POD)
    assert positions.start_line == 3
    assert positions.exact(("apiVersion",)) == 3
    assert positions.exact(("metadata", "name")) == 6
    assert positions.exact(("spec", "containers")) == 8
    assert positions.exact(("spec", "containers", 0)) == 9
    assert positions.exact(("spec", "containers", 0, "name")) == 9
    assert positions.exact(("spec", "containers", 0, "image")) == 10
    # an item whose content starts on the line after its dash is placed at its content
    assert positions.exact(("spec", "containers", 1)) == 12
    assert positions.exact(("spec", "containers", 1, "ports", 1, "containerPort")) == 13
    assert positions.exact(("spec", "containers", 1, "args", 0)) == 15


def test_a_missing_path_points_at_its_nearest_existing_parent():
    positions = lines(POD)
    assert positions.exact(("spec", "containers", 0, "resources", "limits")) is None
    assert positions.line(("spec", "containers", 0, "resources", "limits")) == 9
    assert positions.line(("spec", "containers", 1, "ports", 5)) == 13
    assert positions.line(("spec", "hostNetwork")) == 7
    assert positions.line(("status", "phase")) == 3
    assert positions.line(()) == 3


def test_a_duplicate_key_keeps_its_last_value_and_line():
    text = "replicas: 1\nimage: a\nreplicas: 3\n"
    assert data(text) == {"replicas": 3, "image": "a"}
    assert lines(text).exact(("replicas",)) == 3


def test_walk_visits_every_path_depth_first():
    assert list(walk({"a": [1, {"b": None}]})) == [
        ((), {"a": [1, {"b": None}]}),
        (("a",), [1, {"b": None}]),
        (("a", 0), 1),
        (("a", 1), {"b": None}),
        (("a", 1, "b"), None),
    ]


# --- merge keys ---

MERGE = """\
x-defaults: &defaults
  restart: always
  logging:
    driver: json-file
  environment:
    LEVEL: info
services:
  api:
    <<: *defaults
    environment:
      LEVEL: debug
  worker:
    <<: [*defaults, {restart: never, user: app}]
"""


def test_merge_keys_are_applied_and_local_keys_win():
    services = data(MERGE)["services"]
    assert services["api"] == {
        "environment": {"LEVEL": "debug"},
        "restart": "always",
        "logging": {"driver": "json-file"},
    }
    # the first source wins over later ones
    assert services["worker"]["restart"] == "always"
    assert services["worker"]["user"] == "app"


def test_a_merged_key_points_into_the_anchor_and_an_override_at_itself():
    positions = lines(MERGE)
    assert positions.exact(("services", "api", "restart")) == 2
    assert positions.exact(("services", "api", "logging", "driver")) == 4
    assert positions.exact(("services", "api", "environment")) == 10
    assert positions.exact(("services", "api", "environment", "LEVEL")) == 11
    assert positions.exact(("services", "worker", "user")) == 13


def test_an_overridden_merge_leaves_no_phantom_paths():
    # `environment` of the anchor is replaced, not merged, so its keys are no paths of api's
    prefix = ("services", "api", "environment")
    below = sorted(path for path in lines(MERGE).keys if path[:3] == prefix)
    assert below == [prefix, (*prefix, "LEVEL")]


def test_a_quoted_merge_key_is_an_ordinary_key():
    assert data('"<<": {a: 1}\nb: 2\n') == {"<<": {"a": 1}, "b": 2}


# --- multi-document streams ---


def test_documents_keep_their_index_and_absolute_lines():
    text = "a: 1\n---\n# nothing but a comment\n---\nb: 2\n---\n- x\n- y\n"
    documents = load_documents(text)
    assert [(d.index, d.data) for d in documents if d.data is not None] == [
        (0, {"a": 1}),
        (2, {"b": 2}),
        (3, ["x", "y"]),
    ]
    by_index = {d.index: d for d in documents}
    assert by_index[2].positions.exact(("b",)) == 5
    assert by_index[3].positions.exact((1,)) == 8
    assert by_index[3].positions.start_line == 7


def test_an_empty_stream_has_no_documents():
    assert load_documents("") == []
    assert load_documents("# only a comment\n") == []


# --- errors ---

SYNTAX_ERRORS = [
    ("a: [1, 2\nb: 3\n", 2),
    ("a:\n  b: 1\n c: 2\n", 3),
    ("a: b: c\n", 1),
    ("ok: 1\nk: 'unterminated\n", 3),
    ("- a\nb: 1\n", 2),
    ("a: 1\n---\nb: *undefined\n", 3),
    ("a: 1\n\tb: 2\n", 2),
]


@pytest.mark.parametrize(("text", "line"), SYNTAX_ERRORS)
def test_a_syntax_error_names_its_line(text, line):
    with pytest.raises(YamlSyntaxError) as raised:
        load_documents(text)
    assert raised.value.line == line
    assert raised.value.message


def test_a_file_over_the_size_limit_is_refused_before_parsing():
    text = "a: b\n" * (MAX_BYTES // 5 + 1)
    with pytest.raises(YamlTooComplexError, match="exceeds the manifest-bytes limit"):
        load_documents(text)


def test_a_file_at_the_size_limit_is_read():
    text = "a: 1\n" + "#" * (MAX_BYTES - 5)
    assert len(text.encode()) == MAX_BYTES
    assert data(text) == {"a": 1}


def _billion_laughs(levels: int) -> str:
    rows = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        rows.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(rows) + "\n"


def test_an_alias_bomb_is_refused():
    with pytest.raises(YamlTooComplexError, match=r"exceeds the yaml-nodes limit .*aliases expand"):
        load_documents(_billion_laughs(9))


def test_the_alias_bound_follows_the_limit_in_force():
    text = _billion_laughs(4)  # 9**4 lols and their lists
    assert data(text)["d"][0][0][0] == ["lol"] * 9
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"yaml-nodes": "500"})),
        pytest.raises(YamlTooComplexError, match="yaml-nodes"),
    ):
        load_documents(text)


def test_modest_alias_reuse_is_expanded():
    assert data(_billion_laughs(3))["c"][8][8] == ["lol"] * 9


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n", "&root [1, [*root]]\n"])
def test_a_recursive_alias_is_refused(text):
    with pytest.raises(YamlTooComplexError, match=r"yaml-nodes limit .*contains itself"):
        load_documents(text)


def _nested_lists(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


def _nested_maps(depth: int) -> str:
    return "".join("  " * level + f"k{level}:\n" for level in range(depth)) + "  " * depth + "v\n"


@pytest.mark.parametrize("text", [_nested_lists(5000), _nested_maps(MAX_DEPTH + 5)], ids=["flow", "block"])
def test_deep_nesting_is_refused_instead_of_exhausting_the_stack(text):
    with pytest.raises(YamlTooComplexError, match="nesting-depth"):
        load_documents(text)


def test_a_million_levels_are_refused_before_the_composer_recurses():
    # ruamel's C composer recurses once per level: this used to end the process with SIGSEGV.
    with pytest.raises(YamlTooComplexError, match="nesting-depth"):
        load_documents("- " * 1_000_000 + "x\n")
    with pytest.raises(YamlTooComplexError, match="nesting-depth"):
        load_documents(_nested_lists(1_000_000))


def test_an_alias_counts_with_the_depth_it_expands_to():
    deep = "a: &a " + "[" * 150 + "]" * 150 + "\n"
    assert data(deep)["a"] is not None
    with pytest.raises(YamlTooComplexError, match="nesting-depth"):
        load_documents(deep + "b: " + "[" * 60 + "*a" + "]" * 60 + "\n")


def test_nesting_up_to_the_limit_is_read():
    value = data(_nested_lists(MAX_DEPTH - 1))["a"]
    depth = 0
    while value:
        value, depth = value[0], depth + 1
    assert depth == MAX_DEPTH - 2
    assert data(_nested_maps(MAX_DEPTH - 1))["k0"]["k1"] is not None


# --- configuration files: load_config ---

CONFIG = """\
# a comment first
fail_on:
  severity: high
  epss: {score: 0.5}
ignore:
  - id: CVE-1
    expires: 2027-13-01
"""


def test_a_config_has_the_line_and_column_of_every_key_and_value():
    document = load_config(CONFIG, where="policy.yml")
    assert document is not None
    positions = document.positions
    assert positions.start == (2, 1)
    assert positions.key(("fail_on", "severity")) == (3, 3)
    assert positions.value(("fail_on", "severity")) == (3, 13)
    assert positions.value(("fail_on",)) == (3, 3)  # a block mapping starts at its first key
    assert positions.value(("fail_on", "epss", "score")) == (4, 17)
    assert positions.value(("ignore", 0)) == (6, 5)  # an item starts at its content, after the dash
    assert positions.value(("ignore", 0, "expires")) == (7, 14)
    assert document.data["ignore"][0]["expires"] == "2027-13-01"  # timestamps stay as written


def test_a_missing_path_in_a_config_points_at_its_nearest_parent():
    positions = load_config(CONFIG, where="policy.yml").positions  # type: ignore[union-attr]
    assert positions.value(("fail_on", "kev")) == positions.value(("fail_on",))
    assert positions.key(("fail_on", "kev")) == (3, 3)  # a missing key: where its parent's value starts
    assert positions.value(("checks", "disable", 0)) == (2, 1)  # nothing of it: the document


def test_a_config_keeps_the_first_value_of_a_duplicate_and_reports_every_one():
    document = load_config("a: 1\nb: {x: 1, x: 2}\na: 3\na: 4\n", where="c.yml")
    assert document is not None
    assert document.data == {"a": 1, "b": {"x": 1}}
    assert document.positions.key(("a",)) == (1, 1)
    assert document.key_problems == (
        KeyProblem(2, 11, "duplicate", "x", 2),
        KeyProblem(3, 1, "duplicate", "a", 1),
        KeyProblem(4, 1, "duplicate", "a", 1),
    )


def test_a_config_drops_a_list_or_mapping_key_and_reports_it_and_what_its_value_holds():
    document = load_config("? [a, b]\n: {k: 1, k: 2}\nc: 1\n", where="c.yml")
    assert document is not None
    assert document.data == {"c": 1}
    assert document.key_problems == (KeyProblem(1, 3, "list"), KeyProblem(2, 10, "duplicate", "k", 2))
    assert document.positions.keys.keys() == {("c",)}


def test_a_problem_under_an_anchor_is_reported_once():
    document = load_config("a: &x {k: 1, k: 2}\nb: *x\nc: *x\n", where="c.yml")
    assert document is not None
    assert document.key_problems == (KeyProblem(1, 14, "duplicate", "k", 1),)


def test_manifests_keep_the_last_value_and_report_nothing():
    (document,) = load_documents("a: 1\na: 2\n? [x]\n: 3\n")
    assert document.data == {"a": 2, "['x']": 3}
    assert document.key_problems == ()


def test_a_config_is_one_document():
    with pytest.raises(YamlSyntaxError) as caught:
        load_config("a: 1\n---\nb: 2\n", where="c.yml")
    assert (caught.value.line, caught.value.column) == (2, 1)
    assert caught.value.context == "expected a single document in the stream"
    assert caught.value.message == "but found another document"
    assert load_config("# nothing\n", where="c.yml") is None


def test_a_config_syntax_error_says_what_was_being_parsed_and_where():
    with pytest.raises(YamlSyntaxError) as caught:
        load_config("fail_on: {severity: high\nignore: []\n", where="c.yml")
    error = caught.value
    assert (error.line, error.column, error.context_line) == (2, 7, 1)
    assert error.message == "expected ',' or '}', but got ':'"
    assert error.context == "while parsing a flow mapping"


def test_a_config_past_a_limit_names_the_file():
    with pytest.raises(YamlTooComplexError) as caught:
        load_config("a: " + "[" * 1000 + "]" * 1000 + "\n", where="policy.yml")
    assert str(caught.value).startswith("exceeds the nesting-depth limit")
    assert str(caught.value.error).startswith("policy.yml: exceeds the nesting-depth limit")
