"""Every Kubernetes rule, listed once, in id order."""

from __future__ import annotations

from ci_security.rules.base import KubernetesRule
from ci_security.rules.kubernetes.k8s001_privileged import K8s001Privileged
from ci_security.rules.kubernetes.k8s002_host_network import K8s002HostNetwork
from ci_security.rules.kubernetes.k8s003_host_pid import K8s003HostPid
from ci_security.rules.kubernetes.k8s004_host_ipc import K8s004HostIpc
from ci_security.rules.kubernetes.k8s005_runtime_socket import K8s005RuntimeSocket
from ci_security.rules.kubernetes.k8s006_sensitive_host_path import K8s006SensitiveHostPath
from ci_security.rules.kubernetes.k8s007_host_path import K8s007HostPath
from ci_security.rules.kubernetes.k8s008_host_port import K8s008HostPort
from ci_security.rules.kubernetes.k8s009_sys_admin import K8s009SysAdmin
from ci_security.rules.kubernetes.k8s010_dangerous_capability import K8s010DangerousCapability
from ci_security.rules.kubernetes.k8s011_capability_added import K8s011CapabilityAdded
from ci_security.rules.kubernetes.k8s012_net_raw import K8s012NetRaw
from ci_security.rules.kubernetes.k8s013_drop_all import K8s013DropAll
from ci_security.rules.kubernetes.k8s014_apparmor_unconfined import K8s014ApparmorUnconfined
from ci_security.rules.kubernetes.k8s015_selinux_options import K8s015SelinuxOptions
from ci_security.rules.kubernetes.k8s016_proc_mount import K8s016ProcMount
from ci_security.rules.kubernetes.k8s017_unsafe_sysctls import K8s017UnsafeSysctls
from ci_security.rules.kubernetes.k8s018_host_process import K8s018HostProcess
from ci_security.rules.kubernetes.k8s019_seccomp_unconfined import K8s019SeccompUnconfined
from ci_security.rules.kubernetes.k8s020_privilege_escalation import K8s020PrivilegeEscalation
from ci_security.rules.kubernetes.k8s021_run_as_root import K8s021RunAsRoot
from ci_security.rules.kubernetes.k8s022_seccomp_not_set import K8s022SeccompNotSet
from ci_security.rules.kubernetes.k8s023_volume_types import K8s023VolumeTypes
from ci_security.rules.kubernetes.k8s024_read_only_root_fs import K8s024ReadOnlyRootFs
from ci_security.rules.kubernetes.k8s025_cpu_resources import K8s025CpuResources
from ci_security.rules.kubernetes.k8s026_memory_resources import K8s026MemoryResources
from ci_security.rules.kubernetes.k8s027_liveness_probe import K8s027LivenessProbe
from ci_security.rules.kubernetes.k8s028_readiness_probe import K8s028ReadinessProbe
from ci_security.rules.kubernetes.k8s029_latest_tag import K8s029LatestTag
from ci_security.rules.kubernetes.k8s030_image_digest import K8s030ImageDigest
from ci_security.rules.kubernetes.k8s031_image_pull_policy import K8s031ImagePullPolicy
from ci_security.rules.kubernetes.k8s032_service_account_token import K8s032ServiceAccountToken
from ci_security.rules.kubernetes.k8s033_env_secret import K8s033EnvSecret
from ci_security.rules.kubernetes.k8s034_exposed_service import K8s034ExposedService
from ci_security.rules.kubernetes.k8s035_external_ips import K8s035ExternalIps
from ci_security.rules.kubernetes.k8s036_default_namespace import K8s036DefaultNamespace
from ci_security.rules.kubernetes.k8s037_low_uid_gid import K8s037LowUidGid
from ci_security.rules.kubernetes.k8s038_ssh_port import K8s038SshPort
from ci_security.rules.kubernetes.k8s039_rbac_wildcard import K8s039RbacWildcard
from ci_security.rules.kubernetes.k8s040_rbac_escalation import K8s040RbacEscalation

RULES: tuple[KubernetesRule, ...] = (
    K8s001Privileged(),
    K8s002HostNetwork(),
    K8s003HostPid(),
    K8s004HostIpc(),
    K8s005RuntimeSocket(),
    K8s006SensitiveHostPath(),
    K8s007HostPath(),
    K8s008HostPort(),
    K8s009SysAdmin(),
    K8s010DangerousCapability(),
    K8s011CapabilityAdded(),
    K8s012NetRaw(),
    K8s013DropAll(),
    K8s014ApparmorUnconfined(),
    K8s015SelinuxOptions(),
    K8s016ProcMount(),
    K8s017UnsafeSysctls(),
    K8s018HostProcess(),
    K8s019SeccompUnconfined(),
    K8s020PrivilegeEscalation(),
    K8s021RunAsRoot(),
    K8s022SeccompNotSet(),
    K8s023VolumeTypes(),
    K8s024ReadOnlyRootFs(),
    K8s025CpuResources(),
    K8s026MemoryResources(),
    K8s027LivenessProbe(),
    K8s028ReadinessProbe(),
    K8s029LatestTag(),
    K8s030ImageDigest(),
    K8s031ImagePullPolicy(),
    K8s032ServiceAccountToken(),
    K8s033EnvSecret(),
    K8s034ExposedService(),
    K8s035ExternalIps(),
    K8s036DefaultNamespace(),
    K8s037LowUidGid(),
    K8s038SshPort(),
    K8s039RbacWildcard(),
    K8s040RbacEscalation(),
)
