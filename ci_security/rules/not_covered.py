"""Checks other tools report that we deliberately do not implement, with the reason, keyed by
(tool, id). An id ending in `*` stands for every id with that prefix (`SC*`: all ShellCheck codes).
Together with our rules' `peers` this accounts for every check the peers ship
(`rules.peer_checks.PEER_CHECKS`, tested); `docs/rules.md` lists them grouped by reason, and
`bench/manifests.py` fails when a peer reports a check that is neither mapped nor listed here.
"""

from __future__ import annotations

_RBAC_REVIEW = (
    "An RBAC permission review (logs, workloads, secrets, exec, webhooks, admin bindings) that operators "
    "and cluster components legitimately need; we report wildcards (K8S039) and escalate/bind/impersonate "
    "(K8S040), which are never needed by an application"
)
_NO_SECURITY_CONTEXT = (
    "A catch-all for a missing securityContext: each field it stands for has its own rule with an exact "
    "line, and the catch-all fires even when every field is set at pod level"
)

_PSP = (
    "A PodSecurityPolicy check: the PodSecurityPolicy API was removed in Kubernetes 1.25 (Pod Security "
    "admission replaced it); the workload settings it admitted are each one of our rules"
)
_CONTROL_PLANE = (
    "A CIS benchmark flag of a control-plane component (kube-apiserver, etcd, kubelet, controller-manager, "
    "scheduler) in its static pod: cluster configuration, not an application's manifests; kube-bench "
    "checks it on the nodes"
)
_PRODUCT = (
    "Judges which product is deployed (Tiller of Helm v2, removed in 2020; the Kubernetes dashboard; "
    "git-sync; Gatekeeper's repository list; EKS's aws-auth map), not how a workload is configured"
)
_BINDINGS = (
    "Judges whom a binding grants to (system:anonymous, system:authenticated, system:masters, roles "
    "bound by other bindings); our RBAC rules judge what a role grants (K8S039, K8S040)"
)
_CROSS_OBJECT = (
    "Consistency between objects (selectors, references, ports, services without workloads): correctness "
    "a deploy shows at once, not security"
)
_AVAILABILITY = (
    "Availability and scheduling advice (replicas, affinity, disruption budgets, DNS options, rollout)"
)
_DEPRECATED_API = (
    "A deprecated API version or field: an upgrade concern that kubectl and the API server report "
    "themselves; a kind Kubernetes does not serve at all is MAN003"
)
_LABELS = "Label schema rules need configuration: metadata style"
_NAMESPACE_POLICY = (
    "Namespace-wide policy objects (NetworkPolicy, LimitRange, ResourceQuota) are usually kept apart from "
    "an application's manifests, so their absence from one repository proves nothing"
)

NOT_COVERED: dict[tuple[str, str], str] = {
    ("hadolint", "DL3064"): "Judges a secret by the variable name alone (also value-less ARGs, "
    "PASSWORD_MIN_LENGTH, GOPRIVATE); DF007 judges values, and mapping DL3064 would turn those into HIGH "
    "false positives",
    ("trivy", "DS-0031"): "Judges a secret by the variable name alone in 0.76 (also ARG without default, "
    "*_FILE, *_MIN_LENGTH); DF007 judges values, and mapping DS-0031 would turn those into HIGH false "
    "positives",
    ("hadolint", "DL3024"): "A duplicate stage name is a parse error: reported as MAN001",
    ("trivy", "DS-0012"): "A duplicate stage name is a parse error: reported as MAN001",
    ("checkov", "CKV_DOCKER_11"): "A duplicate stage name is a parse error: reported as MAN001",
    ("hadolint", "DL3061"): "An instruction before FROM is a parse error: reported as MAN001",
    ("hadolint", "DL1000"): "Hadolint could not parse the file (for instance a heredoc it does not support); "
    "our parser reports real parse errors as MAN001",
    ("hadolint", "DL3021"): "COPY of several sources to a destination without a trailing slash fails the "
    "build itself",
    ("trivy", "DS-0011"): "COPY of several sources to a destination without a trailing slash fails the build "
    "itself",
    (
        "trivy",
        "DS-0024",
    ): "apt-get dist-upgrade: deprecated by Trivy itself; upgrading applies security fixes",
    (
        "hadolint",
        "DL3005",
    ): "apt-get upgrade: upgrading applies security fixes; removed from Hadolint's defaults",
    ("hadolint", "DL3035"): "zypper dist-upgrade: upgrading applies security fixes",
    ("hadolint", "DL3025"): "JSON form of CMD/ENTRYPOINT is about signal handling, not security",
    ("hadolint", "DL3059"): "Consecutive RUN instructions: layer-count style advice",
    ("hadolint", "DL3047"): "wget progress bar: build-log verbosity only",
    ("hadolint", "DL3042"): "pip --no-cache-dir: image-size hygiene, often handled by PIP_NO_CACHE_DIR or a "
    "cache mount",
    ("hadolint", "DL3060"): "yarn cache clean: image-size hygiene only",
    ("hadolint", "DL3033"): "yum package pinning: the name-version syntax is ambiguous, and pinning the base "
    "image matters more",
    ("hadolint", "DL3037"): "zypper package pinning: pinning the base image matters more",
    ("hadolint", "DL3041"): "dnf package pinning: the name-version syntax is ambiguous, and pinning the base "
    "image matters more",
    (
        "hadolint",
        "DL3016",
    ): "npm package pinning: lock files (npm ci) are the norm, and ad-hoc global tools are rare in images",
    ("hadolint", "DL3028"): "gem package pinning: Gemfile.lock is the norm",
    ("hadolint", "DL3062"): "go install pinning: rare in images; go.sum pins module builds",
    (
        "hadolint",
        "DL3066",
    ): "Non-numeric USER: advice for Kubernetes runAsNonRoot, which K8S021 checks in the manifest itself",
    ("hadolint", "DL3026"): "Trusted registries need configuration: the policy's images.allowed_registries "
    "covers it",
    ("hadolint", "DL3029"): "FROM --platform is a legitimate cross-build feature",
    ("hadolint", "DL3065"): "A redundant FROM --platform=$TARGETPLATFORM is style only",
    (
        "hadolint",
        "DL3001",
    ): "Commands such as ssh, vim or ps in RUN: style; the risky case, an SSH server, is DF009",
    ("hadolint", "DL3010"): "Recommends ADD for local archives, which DF004 and DF005 advise against",
    ("hadolint", "DL3043"): "ONBUILD triggering FROM or MAINTAINER is a build error",
    ("hadolint", "DL3044"): "An ENV referring to itself in one statement: correctness, not security",
    ("hadolint", "DL3045"): "COPY to a relative destination without WORKDIR: correctness, not security",
    ("hadolint", "DL3046"): "useradd without -l and a high UID: image size only",
    ("hadolint", "DL3048"): "Label key format: metadata style",
    ("hadolint", "DL3049"): "Label schema rules need configuration: metadata style",
    (
        "hadolint",
        "DL3067",
    ): "COPY of a whole filesystem from another stage: style, no security impact by itself",
    ("hadolint", "DL4005"): "Replacing /bin/sh with ln instead of SHELL: style",
    (
        "hadolint",
        "DL4007",
    ): "Whether COPY . leaks files depends on .dockerignore, which the Dockerfile does not show",
    ("hadolint", "DL1001"): "Hadolint's own inline ignore pragmas: ours require a reason (MAN002)",
    ("hadolint", "SC*"): "ShellCheck lint of RUN scripts (quoting, portability): shell style, not security; "
    "DF006, DF016, DF017 and DF032 cover the shell cases that are",
    ("trivy", "KSV-0037"): "Cluster add-ons belong in kube-system as their vendors ship them; telling a "
    "user's workload from an add-on needs cluster context a manifest does not have",
    ("trivy", "KSV-0041"): _RBAC_REVIEW,
    ("trivy", "KSV-0042"): _RBAC_REVIEW,
    ("trivy", "KSV-0048"): _RBAC_REVIEW,
    ("trivy", "KSV-0053"): _RBAC_REVIEW,
    ("trivy", "KSV-0111"): _RBAC_REVIEW,
    ("trivy", "KSV-0114"): _RBAC_REVIEW,
    (
        "trivy",
        "KSV-0117",
    ): "A port below 1024 only matters through NET_BIND_SERVICE or root, which K8S011 and "
    "K8S021 judge; Trivy reports it with no line",
    ("trivy", "KSV-0118"): _NO_SECURITY_CONTEXT,
    (
        "trivy",
        "KSV-0125",
    ): "Allowed registries are the policy's `images.allowed_registries`; Trivy's built-in "
    "list of cloud registries flags every private registry",
    ("checkov", "CKV_K8S_29"): _NO_SECURITY_CONTEXT,
    ("checkov", "CKV_K8S_30"): _NO_SECURITY_CONTEXT,
    (
        "checkov",
        "CKV2_K8S_6",
    ): "A NetworkPolicy is a cross-file, often cross-repository object; the check fires "
    "on every workload of a repository that keeps its network policies elsewhere",
    ("checkov", "CKV_K8S_35"): "Preferring secret files to secretKeyRef env vars is a style preference; "
    "plaintext secrets in env are K8S033",
    ("checkov", "CKV_K8S_155"): _RBAC_REVIEW,
    ("checkov", "CKV_K8S_156"): _RBAC_REVIEW,
    ("kube-linter", "privileged-ports"): "A port below 1024 only matters through NET_BIND_SERVICE or root, "
    "which K8S011 and K8S021 judge",
    ("kube-linter", "writable-host-mount"): "Every hostPath is reported by K8S005, K8S006 or K8S007 by what "
    "it exposes; read-only does not make a socket or /etc/shadow safe",
    (
        "kube-linter",
        "read-secret-from-env-var",
    ): "Preferring secret files to secretKeyRef env vars is a style "
    "preference; plaintext secrets in env are K8S033",
    ("kube-linter", "non-isolated-pod"): "A NetworkPolicy is a cross-file, often cross-repository object",
    (
        "kube-linter",
        "default-service-account",
    ): "Using the default service account is harmless once its token is not mounted, which K8S032 checks",
    ("kube-linter", "access-to-secrets"): _RBAC_REVIEW,
    ("kube-linter", "access-to-create-pods"): _RBAC_REVIEW,
    ("kube-linter", "cluster-admin-role-binding"): _RBAC_REVIEW,
    # --- the rest of each peer's catalogue (rules.peer_checks) ---
    **{("hadolint", f"DL30{n}"): _LABELS for n in ("50", "51", "52", "53", "54", "55", "56", "58")},
    ("hadolint", "DL3063"): "A stage named like a reserved word (`scratch`, `context`): readability and "
    "build correctness, not security",
    ("trivy", "KSV-0007"): "hostAliases only add names to the pod's own /etc/hosts",
    **{
        ("trivy", f"KSV-00{n}"): "Deprecated by Trivy: restricting registries is the policy's "
        "`images.allowed_registries`"
        for n in ("32", "33", "34", "35")
    },
    ("trivy", "KSV-0038"): _NAMESPACE_POLICY,
    ("trivy", "KSV-0039"): _NAMESPACE_POLICY,
    ("trivy", "KSV-0040"): _NAMESPACE_POLICY,
    **{
        ("trivy", f"KSV-0{n}"): _RBAC_REVIEW for n in ("047", "049", "051", "052", "054", "055", "056", "113")
    },
    ("trivy", "KSV-0101"): _BINDINGS,
    ("trivy", "KSV-0122"): _BINDINGS,
    ("trivy", "KSV-0123"): _BINDINGS,
    ("trivy", "KSV-0102"): _PRODUCT,
    ("trivy", "KSV-0115"): _PRODUCT,
    ("trivy", "KSV-0124"): _PRODUCT,
    ("trivy", "KSV-0107"): _DEPRECATED_API,
    ("trivy", "KSV-0109"): "Judges a ConfigMap by its key names alone (a `password_policy` key is a "
    "finding); plaintext secrets that reach a container are judged by value in its env (K8S033)",
    **{("checkov", f"CKV_K8S_{n}"): _PSP for n in (1, 2, 3, 4, 5, 6, 7, 24, 32, 36)},
    **{("checkov", f"CKV_K8S_{n}"): _PRODUCT for n in (33, 34, 44, 45, 159)},
    ("checkov", "CKV_K8S_41"): "Using the default service account is harmless once its token is not "
    "mounted, which K8S032 checks",
    ("checkov", "CKV_K8S_42"): "Using the default service account is harmless once its token is not "
    "mounted, which K8S032 checks",
    **{
        ("checkov", f"CKV_K8S_{n}"): _CONTROL_PLANE
        for n in (
            68,
            69,
            70,
            71,
            72,
            73,
            74,
            75,
            77,
            78,
            79,
            80,
            81,
            82,
            83,
            84,
            85,
            86,
            88,
            89,
            90,
            91,
            92,
            93,
            94,
            95,
            96,
            97,
            99,
            100,
            102,
            104,
            105,
            106,
            107,
            108,
            110,
            111,
            112,
            113,
            114,
            115,
            116,
            117,
            118,
            119,
            121,
            138,
            139,
            140,
            141,
            143,
            144,
            145,
            146,
            147,
            148,
            149,
            151,
        )
    },
    **{
        ("checkov", f"CKV_K8S_{n}"): "Ingress-NGINX snippet annotations (CVE-2021-25742) are dangerous "
        "only where the controller allows them (`allow-snippet-annotations`, off by default since "
        "controller 1.9), which the manifest does not show"
        for n in (152, 153, 154)
    },
    ("checkov", "CKV2_K8S_1"): _BINDINGS,
    ("checkov", "CKV2_K8S_2"): _RBAC_REVIEW,
    ("checkov", "CKV2_K8S_4"): _RBAC_REVIEW,
    ("checkov", "CKV2_K8S_5"): _RBAC_REVIEW,
    **{
        ("kube-linter", check): _CROSS_OBJECT
        for check in (
            "dangling-horizontalpodautoscaler",
            "dangling-ingress",
            "dangling-networkpolicy",
            "dangling-networkpolicypeer-podselector",
            "dangling-service",
            "dangling-servicemonitor",
            "duplicate-env-var",
            "invalid-target-ports",
            "liveness-port",
            "mismatching-selector",
            "non-existent-service-account",
            "readiness-port",
            "startup-port",
        )
    },
    **{
        ("kube-linter", check): _AVAILABILITY
        for check in (
            "dnsconfig-options",
            "hpa-minimum-three-replicas",
            "minimum-three-replicas",
            "no-anti-affinity",
            "no-node-affinity",
            "no-rolling-update-strategy",
            "pdb-max-unavailable",
            "pdb-min-available",
            "pdb-unhealthy-pod-eviction-policy",
        )
    },
    ("kube-linter", "deprecated-service-account-field"): _DEPRECATED_API,
    ("kube-linter", "no-extensions-v1beta"): _DEPRECATED_API,
    ("kube-linter", "required-annotation-email"): "Organisational metadata that needs configuration",
    ("kube-linter", "required-label-owner"): "Organisational metadata that needs configuration",
    ("kube-linter", "scc-deny-privileged-container"): "OpenShift SecurityContextConstraints are admission "
    "policy that cluster administrators configure; the privileged containers they admit are K8S001",
}


def explains(tool: str, check: str) -> bool:
    """True when `check` of `tool` is listed, exactly or by a `PREFIX*` entry."""
    wanted = check.upper()
    for listed_tool, listed in NOT_COVERED:
        if listed_tool != tool:
            continue
        pattern = listed.upper()
        if pattern == wanted or (pattern.endswith("*") and wanted.startswith(pattern[:-1])):
            return True
    return False
