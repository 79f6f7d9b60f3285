"""Every Dockerfile and Kubernetes check the peer tools ship, by tool: the list `docs/rules.md` accounts
for, one id at a time, as either the peer of one of our rules (`RuleMeta.peers`) or a check we do not
implement, with the reason (`rules.not_covered`). A test fails when an id is neither.

Read from the tools themselves, at the versions `scripts/setup.sh` installs:
- Hadolint 2.15.1: the rule codes in its binary (DL3005, DL3017, DL3031, DL3039 and DL4002 no longer
  exist); ShellCheck's SC codes are one entry, `SC*`;
- Trivy 0.76.0: the `id` of every Dockerfile and Kubernetes check embedded in the binary (the
  trivy-checks bundle it falls back to offline), deprecated ones included;
- Checkov 3.3.30: `checkov --list --framework dockerfile kubernetes`;
- kube-linter: `docs/generated/checks.md` of stackrox/kube-linter at 8d68919.
"""

from __future__ import annotations


def _ids(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _range(prefix: str, numbers: str) -> str:
    return " ".join(f"{prefix}{n}" for n in numbers.split())


PEER_VERSIONS = {
    "hadolint": "2.15.1",
    "trivy": "0.76.0",
    "checkov": "3.3.30",
    "kube-linter": "8d68919",
}

PEER_CHECKS: dict[str, frozenset[str]] = {
    "hadolint": _ids(
        "DL1000 DL1001 DL3000 DL3001 DL3002 DL3003 DL3004 DL3006 DL3007 DL3008 DL3009 DL3010 DL3011 "
        "DL3012 DL3013 DL3014 DL3015 DL3016 DL3018 DL3019 DL3020 DL3021 DL3022 DL3023 DL3024 DL3025 "
        "DL3026 DL3027 DL3028 DL3029 DL3030 DL3032 DL3033 DL3034 DL3035 DL3036 DL3037 DL3038 DL3040 "
        "DL3041 DL3042 DL3043 DL3044 DL3045 DL3046 DL3047 DL3048 DL3049 DL3050 DL3051 DL3052 DL3053 "
        "DL3054 DL3055 DL3056 DL3057 DL3058 DL3059 DL3060 DL3061 DL3062 DL3063 DL3064 DL3065 DL3066 "
        "DL3067 DL4000 DL4001 DL4003 DL4004 DL4005 DL4006 SC*"
    ),
    "trivy": _ids(
        _range("DS-00", "01 02 04 05 06 07 08 09 10 11 12 13 14 15 16 17 19 20 21 22 23 24 25 26 27 29 30 31")
        + " "
        + _range(
            "KSV-0",
            "001 002 003 004 005 006 007 008 009 010 011 012 013 014 015 016 017 018 020 021 022 023 024 "
            "025 026 027 028 030 032 033 034 035 036 037 038 039 040 041 042 043 044 045 046 047 048 049 "
            "050 051 052 053 054 055 056 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 "
            "117 118 119 120 121 122 123 124 125",
        )
    ),
    "checkov": _ids(
        _range("CKV_DOCKER_", "1 2 3 4 5 6 7 8 9 10 11")
        + " "
        + _range("CKV2_DOCKER_", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17")
        + " "
        + _range(
            "CKV_K8S_",
            "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 "
            "36 37 38 39 40 41 42 43 44 45 49 68 69 70 71 72 73 74 75 77 78 79 80 81 82 83 84 85 86 88 89 90 "
            "91 92 93 94 95 96 97 99 100 102 104 105 106 107 108 110 111 112 113 114 115 116 117 118 119 121 "
            "138 139 140 141 143 144 145 146 147 148 149 151 152 153 154 155 156 157 158 159",
        )
        + " "
        + _range("CKV2_K8S_", "1 2 3 4 5 6")
    ),
    "kube-linter": _ids(
        "access-to-create-pods access-to-secrets cluster-admin-role-binding dangling-horizontalpodautoscaler "
        "dangling-ingress dangling-networkpolicy dangling-networkpolicypeer-podselector dangling-service "
        "dangling-servicemonitor default-service-account deprecated-service-account-field dnsconfig-options "
        "docker-sock drop-net-raw-capability duplicate-env-var env-var-secret exposed-services host-ipc "
        "host-network host-pid hpa-minimum-three-replicas invalid-target-ports latest-tag liveness-port "
        "minimum-three-replicas mismatching-selector no-anti-affinity no-extensions-v1beta no-liveness-probe "
        "no-node-affinity no-read-only-root-fs no-readiness-probe no-rolling-update-strategy "
        "non-existent-service-account non-isolated-pod pdb-max-unavailable pdb-min-available "
        "pdb-unhealthy-pod-eviction-policy privilege-escalation-container privileged-container "
        "privileged-ports read-secret-from-env-var readiness-port required-annotation-email "
        "required-label-owner run-as-non-root scc-deny-privileged-container sensitive-host-mounts ssh-port "
        "startup-port unsafe-proc-mount unsafe-sysctls unset-cpu-requirements unset-memory-requirements "
        "use-namespace wildcard-in-rules writable-host-mount"
    ),
}
