"""Kubernetes objects from YAML: multi-document files, `List` items with their line offsets, the pod
template of every workload kind, init and ephemeral containers, the effective securityContext as the
kubelet computes it, and documents that are not Kubernetes objects skipped."""

from __future__ import annotations

import pytest

from ci_security.manifests.kubernetes import POD_SPEC_PATHS, is_kubernetes, load_kubernetes
from ci_security.manifests.yamldoc import YamlSyntaxError, load_documents


def one(text: str):
    objects = load_kubernetes(text, "k8s/app.yaml")
    assert len(objects) == 1
    return objects[0]


# --- documents and lists ---

MULTI = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
# a compose file that happens to sit in the same stream is not Kubernetes
services:
  web:
    image: nginx
---
kind: Deployment
metadata:
  name: no-api-version
---
apiVersion: v1
kind: 42
---
- apiVersion: v1
  kind: Pod
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  type: ClusterIP
"""


def test_every_kubernetes_document_becomes_an_object_and_others_are_skipped():
    objects = load_kubernetes(MULTI, "k8s/app.yaml")
    assert [(o.doc_index, o.kind, o.resource) for o in objects] == [
        (0, "Namespace", "Namespace/shop"),
        (5, "Service", "Service/shop/web"),
    ]
    service = objects[1]
    assert service.path == "k8s/app.yaml"
    assert service.api_version == "v1"
    assert service.line("spec", "type") == 27
    assert service.line() == 21
    assert service.pod_spec is None
    assert list(service.containers()) == []


def test_is_kubernetes_needs_one_object():
    assert is_kubernetes(load_documents(MULTI))
    assert not is_kubernetes(load_documents("services:\n  web:\n    image: nginx\n"))
    assert not is_kubernetes(load_documents("kind: Pod\n"))


LIST = """\
apiVersion: v1
kind: List
metadata: {}
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      namespace: shop
    data:
      LEVEL: info
  - not an object
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      generateName: worker-
    spec:
      template:
        spec:
          containers:
            - name: worker
              image: registry.example.com/worker:1.0
"""


def test_list_items_are_objects_with_paths_relative_to_the_item():
    config, deployment = load_kubernetes(LIST, "list.yaml")
    assert (config.kind, config.resource, config.base) == (
        "ConfigMap",
        "ConfigMap/shop/settings",
        ("items", 0),
    )
    assert (deployment.resource, deployment.base) == ("Deployment/worker-", ("items", 2))
    assert config.line("data", "LEVEL") == 11
    assert config.line() == 5
    assert config.exact("metadata", "name") == 8
    assert deployment.line("spec", "template", "spec", "containers", 0, "image") == 22
    # a missing path falls back to the nearest parent inside the item, never outside it
    assert deployment.line("spec", "template", "spec", "hostNetwork") == 19
    assert deployment.line("status") == 13
    assert deployment.get("spec", "template", "spec", "containers", 0, "name") == "worker"


@pytest.mark.parametrize("kind", ["PodList", "DeploymentList", "ConfigMapList"])
def test_any_kind_ending_in_list_with_items_is_unpacked(kind):
    text = f"apiVersion: v1\nkind: {kind}\nitems:\n  - apiVersion: v1\n    kind: Pod\n"
    text += "    metadata: {name: a}\n"
    (pod,) = load_kubernetes(text, "list.yaml")
    assert pod.resource == "Pod/a"
    assert pod.line("metadata") == 6


def test_a_list_without_items_is_an_object_itself():
    (obj,) = load_kubernetes("apiVersion: v1\nkind: List\nmetadata: {}\n", "list.yaml")
    assert obj.kind == "List"


def test_syntax_errors_propagate_with_their_line():
    with pytest.raises(YamlSyntaxError) as raised:
        load_kubernetes("apiVersion: v1\nkind: Pod\nmetadata: [\n", "bad.yaml")
    assert raised.value.line == 4


# --- pod templates of every workload kind ---

CONTAINERS = """\
containers:
  - name: app
    image: app:1
"""


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + row + "\n" for row in text.splitlines())


def workload(kind: str) -> str:
    head = f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: w\n  namespace: prod\n"
    body = _indent(CONTAINERS, 2)
    for key in reversed(POD_SPEC_PATHS[kind]):
        body = f"{key}:\n" + _indent(body, 2)
    return head + body


@pytest.mark.parametrize("kind", sorted(POD_SPEC_PATHS))
def test_every_workload_kind_exposes_its_pod_spec_and_containers(kind):
    obj = one(workload(kind))
    expected = {
        "Pod": ("spec",),
        "PodTemplate": ("template", "spec"),
        "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    }.get(kind, ("spec", "template", "spec"))
    assert obj.pod_spec_path == expected
    assert obj.pod_spec == {"containers": [{"name": "app", "image": "app:1"}]}
    (container,) = obj.containers()
    assert container.path == (*expected, "containers", 0)
    assert container.label == "container app"
    depth = len(expected)
    assert obj.line(*container.path) == 7 + depth
    assert obj.line(*container.path, "image") == 8 + depth
    assert obj.resource == f"{kind}/prod/w"


def test_a_kind_without_a_pod_template_or_a_broken_one_has_no_containers():
    assert one("apiVersion: v1\nkind: ConfigMap\ndata:\n  spec: x\n").pod_spec is None
    broken = one("apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec: nothing\n")
    assert broken.pod_spec_path is None
    assert list(broken.containers()) == []


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    team: shop
spec:
  initContainers:
    - name: migrate
      image: migrate:1
  containers:
    - name: app
      image: app:1
    - image: sidecar:1
    - just a string
  ephemeralContainers:
    - name: debugger
      image: busybox:1.36
"""


def test_init_regular_and_ephemeral_containers_are_all_walked():
    pod = one(POD)
    found = [(c.kind, c.name, c.label, c.path) for c in pod.containers()]
    assert found == [
        ("initContainers", "migrate", "init container migrate", ("spec", "initContainers", 0)),
        ("containers", "app", "container app", ("spec", "containers", 0)),
        ("containers", "#1", "container #1", ("spec", "containers", 1)),
        (
            "ephemeralContainers",
            "debugger",
            "ephemeral container debugger",
            ("spec", "ephemeralContainers", 0),
        ),
    ]
    assert pod.annotations == {"team": "shop"}
    assert pod.resource == "Pod/web"


# --- effective securityContext ---

INHERIT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      securityContext:
        runAsUser: 1000
        runAsGroup: 3000
        runAsNonRoot: true
        fsGroup: 2000
        sysctls: [{name: net.ipv4.tcp_syncookies, value: "1"}]
        seccompProfile: {type: RuntimeDefault}
        seLinuxOptions: {type: container_t, level: "s0:c1,c2"}
        windowsOptions: {hostProcess: true, runAsUserName: svc}
        privileged: true
      containers:
        - name: inherits
          image: a:1
        - name: overrides
          image: b:1
          securityContext:
            runAsUser: 2000
            runAsNonRoot:
            allowPrivilegeEscalation: false
            seLinuxOptions: {user: system_u}
            windowsOptions: {runAsUserName: other}
"""


def test_a_container_inherits_only_the_fields_pods_and_containers_share():
    deployment = one(INHERIT)
    inherits, _ = deployment.containers()
    assert deployment.security_context(inherits) == {
        "runAsUser": 1000,
        "runAsGroup": 3000,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
        "seLinuxOptions": {"type": "container_t", "level": "s0:c1,c2"},
        "windowsOptions": {"hostProcess": True, "runAsUserName": "svc"},
    }


def test_the_container_wins_a_null_field_is_unset_and_windows_options_merge_field_by_field():
    deployment = one(INHERIT)
    _, overrides = deployment.containers()
    context = deployment.security_context(overrides)
    assert context["runAsUser"] == 2000
    assert context["runAsNonRoot"] is True
    assert context["allowPrivilegeEscalation"] is False
    # the kubelet takes the container's seLinuxOptions as a whole, but windowsOptions field by field
    assert context["seLinuxOptions"] == {"user": "system_u"}
    assert context["windowsOptions"] == {"hostProcess": True, "runAsUserName": "other"}


def test_security_context_path_points_where_the_effective_value_is_written():
    deployment = one(INHERIT)
    inherits, overrides = deployment.containers()
    pod = ("spec", "template", "spec", "securityContext")
    own = ("spec", "template", "spec", "containers", 1, "securityContext")
    assert deployment.security_context_path(overrides, "runAsUser") == (*own, "runAsUser")
    assert deployment.security_context_path(inherits, "runAsUser") == (*pod, "runAsUser")
    # written as null in the container: the pod's value applies, so that is where the fix goes
    assert deployment.security_context_path(overrides, "runAsNonRoot") == (*pod, "runAsNonRoot")
    # a container-only field is never looked up at the pod, even when written there
    assert deployment.security_context_path(inherits, "privileged") == (
        "spec", "template", "spec", "containers", 0, "securityContext",
    )  # fmt: skip
    assert deployment.line(*deployment.security_context_path(inherits, "privileged")) == 19
    assert deployment.line(*deployment.security_context_path(overrides, "readOnlyRootFilesystem")) == 23
    assert deployment.line(*deployment.security_context_path(overrides, "runAsNonRoot")) == 11


def test_without_a_pod_security_context_the_container_stands_alone():
    text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n"
    pod = one(text + "      securityContext: {runAsUser: 5}\n")
    (container,) = pod.containers()
    assert pod.security_context(container) == {"runAsUser": 5}
    assert pod.line(*pod.security_context_path(container, "runAsNonRoot")) == 6
