"""The compose loader: what counts as a compose file, service lines, anchors, layers and `extends`."""

import pytest

from ci_security.manifests.compose import ComposeFile, compose_from, is_compose_name, load_compose
from ci_security.manifests.yamldoc import load_documents
from ci_security.rules.runner import check_text


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def load(text: str, path: str = "compose.yaml") -> ComposeFile:
    compose = load_compose(text, path)
    assert compose is not None
    return compose


# --- what is a compose file ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "deploy/docker-compose.prod.yaml",
        "compose.override.yml",
        "stack.compose.yaml",
        "podman-compose.yml",
    ],
)
def test_compose_names(name):
    assert is_compose_name(name)


@pytest.mark.parametrize("name", ["composer.yaml", "values.yaml", "decompose.yml", ".gitlab-ci.yml"])
def test_other_names(name):
    assert not is_compose_name(name)


DETECTION = [
    pytest.param("services:\n  web:\n    image: nginx:1.27\n", "deploy/stack.yml", True, id="services-only"),
    pytest.param(
        lines(
            "version: '3.8'", "name: shop", "services:", "  web: {image: nginx}", "networks: {}", "x-meta: 1"
        ),
        "stack.yml",
        True,
        id="all-compose-top-level-keys",
    ),
    pytest.param(
        lines("replicaCount: 2", "services:", "  api:", "    port: 8080"),
        "charts/shop/values.yaml",
        False,
        id="helm-values-with-services",
    ),
    pytest.param(
        lines("replicaCount: 2", "services:", "  api:", "    image: nginx"),
        "docker-compose.yml",
        True,
        id="compose-name-tolerates-unknown-keys",
    ),
    pytest.param(
        lines("test:", "  image: python:3.12", "  services:", "    - postgres:16"),
        ".gitlab-ci.yml",
        False,
        id="gitlab-ci-services-list",
    ),
    pytest.param("services:\n  - postgres:16\n", "compose.yaml", False, id="services-not-a-mapping"),
    pytest.param(
        lines("apiVersion: v1", "kind: Service", "services: {}"),
        "compose.yaml",
        False,
        id="kubernetes-object",
    ),
    pytest.param("name: shop\nnetworks: {}\n", "compose.yaml", False, id="no-services-anywhere"),
    pytest.param("", "compose.yaml", False, id="empty"),
    pytest.param(
        lines("services:", "  web: {image: nginx}", "---", "hosts: all", "tasks: []"),
        "site.yml",
        False,
        id="generic-name-with-a-non-compose-document",
    ),
]


@pytest.mark.parametrize(("text", "path", "expected"), DETECTION)
def test_detection(text, path, expected):
    assert (compose_from(path, load_documents(text)) is not None) is expected


def test_runner_reports_nothing_for_yaml_that_is_not_compose():
    text = lines("replicaCount: 2", "services:", "  api:", "    privileged: true")
    assert check_text(text, "charts/shop/values.yaml") == []


# --- services and their lines --------------------------------------------------------------------

BASIC = lines(
    "services:",  # 1
    "  web:",  # 2
    "    image: nginx:1.27",  # 3
    "    ports:",  # 4
    '      - "8080:80"',  # 5
    "      - target: 443",  # 6
    "        host_ip: 0.0.0.0",  # 7
    "  worker:",  # 8
    "    image: app:1.0",  # 9
    "  broken: just-a-string",  # 10
)


def test_services_and_lines():
    compose = load(BASIC)
    web, worker = compose.services()
    assert (web.name, web.path, web.document, web.resource) == ("web", ("services", "web"), 0, "service web")
    assert web.line() == 2
    assert web.line("image") == 3
    assert web.line("ports", 0) == 5
    assert web.line("ports", 1) == 6
    assert web.line("ports", 1, "host_ip") == 7
    assert web.exact("privileged") is None
    assert web.line("privileged") == 2  # a missing key points at the service
    assert web.get("ports", 1, "target") == 443
    assert web.get("ports", 5) is None
    assert worker.line() == 8
    assert compose.names() == ["web", "worker"]  # a service that is not a mapping is skipped


def test_file_level_line_lookup():
    compose = load(BASIC)
    assert compose.line("services", "web", "image") == 3
    assert compose.line("services", "web", "missing") == 2
    assert compose.exact("services", "nope") is None


# --- anchors, merge keys and x- extensions ---------------------------------------------------------

ANCHORS = lines(
    "x-hardening: &hardening",  # 1
    "  read_only: true",  # 2
    "  privileged: true",  # 3
    "  environment:",  # 4
    "    LOG_LEVEL: info",  # 5
    "services:",  # 6
    "  api:",  # 7
    "    <<: *hardening",  # 8
    "    image: api:1.0",  # 9
    "    privileged: false",  # 10
    "  worker:",  # 11
    "    <<: *hardening",  # 12
    "    image: worker:1.0",  # 13
    "    environment:",  # 14
    "      QUEUE: jobs",  # 15
)


def test_merged_keys_point_into_the_anchor_and_overrides_keep_their_line():
    compose = load(ANCHORS)
    api, worker = compose.services()
    assert api.data["read_only"] is True and api.line("read_only") == 2
    assert api.data["privileged"] is False and api.line("privileged") == 10
    assert worker.data["privileged"] is True and worker.line("privileged") == 3
    assert worker.data["environment"] == {"QUEUE": "jobs"} and worker.line("environment") == 14
    assert worker.exact("environment", "LOG_LEVEL") is None
    assert api.line("environment", "LOG_LEVEL") == 5


def test_extension_sections_are_not_services():
    assert load(ANCHORS).names() == ["api", "worker"]


def test_a_finding_in_an_anchor_is_reported_for_each_service_that_merges_it():
    text = ANCHORS.replace("    privileged: false\n", "")
    findings = [f for f in check_text(text, "compose.yaml") if f.rule_id == "COMPOSE001"]
    assert [(f.line, f.resource) for f in findings] == [(3, "service api"), (3, "service worker")]
    assert len({f.fingerprint for f in findings}) == 2


# --- documents are layers ---------------------------------------------------------------------------

LAYERS = lines(
    "services:",  # 1
    "  web:",  # 2
    "    image: nginx:1.27",  # 3
    "    privileged: true",  # 4
    "  db:",  # 5
    "    image: postgres:16",  # 6
    "---",  # 7
    "services:",  # 8
    "  web:",  # 9
    "    privileged: false",  # 10
    "  cache:",  # 11
    "    image: redis:7",  # 12
    "    pid: host",  # 13
)


def test_every_document_is_a_layer():
    compose = load(LAYERS)
    assert compose.names() == ["web", "db", "cache"]
    assert [(s.name, s.document, s.line()) for s in compose.services()] == [
        ("web", 0, 2),
        ("web", 1, 9),
        ("db", 0, 5),
        ("cache", 1, 11),
    ]
    assert [s.document for s in compose.definitions("web")] == [0, 1]


def test_the_last_layer_that_sets_a_key_decides():
    compose = load(LAYERS)
    service, value = compose.setting("web", "privileged") or (None, None)
    assert value is False and service is not None and service.line("privileged") == 10
    service, value = compose.setting("web", "image") or (None, None)
    assert value == "nginx:1.27" and service is not None and service.document == 0
    assert compose.setting("db", "privileged") is None


def test_rules_see_later_documents_and_overrides():
    findings = check_text(LAYERS, "compose.yaml")
    assert [f.line for f in findings if f.rule_id == "COMPOSE003"] == [13]
    assert [f for f in findings if f.rule_id == "COMPOSE001"] == []


def test_empty_documents_are_skipped():
    compose = load("---\n---\nservices:\n  web:\n    image: nginx:1.27\n---\n")
    (web,) = compose.services()
    assert web.line() == 4


# --- extends within the file ------------------------------------------------------------------------

EXTENDS = lines(
    "services:",  # 1
    "  base:",  # 2
    "    image: app:1.0",  # 3
    "    read_only: true",  # 4
    "    cap_drop: [ALL]",  # 5
    "  api:",  # 6
    "    extends: base",  # 7
    "  api-canary:",  # 8
    "    extends:",  # 9
    "      service: api",  # 10
    "    read_only: false",  # 11
    "  remote:",  # 12
    "    extends:",  # 13
    "      file: common.yaml",  # 14
    "      service: base",  # 15
    "  loop-a:",  # 16
    "    extends: loop-b",  # 17
    "  loop-b:",  # 18
    "    extends: loop-a",  # 19
)


def test_extends_chain():
    compose = load(EXTENDS)
    assert [s.name for s in compose.chain("api-canary")] == ["api-canary", "api", "base"]
    assert [s.name for s in compose.chain("remote")] == ["remote"]  # another file cannot be followed
    assert [s.name for s in compose.chain("loop-a")] == ["loop-a", "loop-b"]


def test_inherited_settings():
    compose = load(EXTENDS)
    service, value = compose.setting("api", "read_only", inherit=True) or (None, None)
    assert value is True and service is not None and (service.name, service.line("read_only")) == ("base", 4)
    assert compose.setting("api", "read_only") is None  # without inherit only the service's own layers
    service, value = compose.setting("api-canary", "read_only", inherit=True) or (None, None)
    assert value is False and service is not None and service.name == "api-canary"
    assert compose.setting("loop-a", "read_only", inherit=True) is None


def test_missing_key_rules_follow_extends():
    findings = check_text(EXTENDS, "compose.yaml", enable=["COMPOSE012", "COMPOSE017"])
    read_only = [(f.line, f.resource) for f in findings if f.rule_id == "COMPOSE017"]
    assert read_only == [(11, "service api-canary"), (12, "service remote"), (16, "service loop-a"),
                         (18, "service loop-b")]  # fmt: skip
    cap_drop = [f.resource for f in findings if f.rule_id == "COMPOSE012"]
    assert cap_drop == ["service remote", "service loop-a", "service loop-b"]


# --- named volumes --------------------------------------------------------------------------------


def test_named_volumes():
    text = lines(
        "services:",
        "  db:",
        "    image: postgres:16",
        '    volumes: ["data:/var/lib/postgresql/data"]',
        "volumes:",
        "  data:",
        "    driver_opts: {type: none, o: bind, device: /srv/pg}",
        "  cache: {}",
        "  external:",
    )
    volumes = list(load(text).named_volumes())
    assert [(v.name, v.resource, v.line()) for v in volumes] == [
        ("data", "volume data", 6),
        ("cache", "volume cache", 8),
    ]
    assert volumes[0].line("driver_opts", "device") == 7
