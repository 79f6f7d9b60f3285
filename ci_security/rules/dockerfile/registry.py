"""Every Dockerfile rule, listed once, in id order."""

from __future__ import annotations

from ci_security.rules.base import DockerfileRule
from ci_security.rules.dockerfile.df001_root_user import Df001RootUser
from ci_security.rules.dockerfile.df002_latest_tag import Df002LatestTag
from ci_security.rules.dockerfile.df003_digest_pin import Df003DigestPin
from ci_security.rules.dockerfile.df004_add_local import Df004AddLocal
from ci_security.rules.dockerfile.df005_add_url import Df005AddUrl
from ci_security.rules.dockerfile.df006_pipe_to_shell import Df006PipeToShell
from ci_security.rules.dockerfile.df007_secret_env import Df007SecretEnv
from ci_security.rules.dockerfile.df008_sudo import Df008Sudo
from ci_security.rules.dockerfile.df009_expose_ssh import Df009ExposeSsh
from ci_security.rules.dockerfile.df010_healthcheck import Df010Healthcheck
from ci_security.rules.dockerfile.df011_no_install_recommends import Df011NoInstallRecommends
from ci_security.rules.dockerfile.df012_apt_lists import Df012AptLists
from ci_security.rules.dockerfile.df013_apk_cache import Df013ApkCache
from ci_security.rules.dockerfile.df014_update_alone import Df014UpdateAlone
from ci_security.rules.dockerfile.df015_pip_unpinned import Df015PipUnpinned
from ci_security.rules.dockerfile.df016_tls_disabled import Df016TlsDisabled
from ci_security.rules.dockerfile.df017_signature_check_disabled import Df017SignatureCheckDisabled
from ci_security.rules.dockerfile.df018_assume_yes import Df018AssumeYes
from ci_security.rules.dockerfile.df019_run_cd import Df019RunCd
from ci_security.rules.dockerfile.df020_relative_workdir import Df020RelativeWorkdir
from ci_security.rules.dockerfile.df021_maintainer import Df021Maintainer
from ci_security.rules.dockerfile.df022_multiple_cmd import Df022MultipleCmd
from ci_security.rules.dockerfile.df023_copy_from import Df023CopyFrom
from ci_security.rules.dockerfile.df024_rpm_cache import Df024RpmCache
from ci_security.rules.dockerfile.df025_curl_and_wget import Df025CurlAndWget
from ci_security.rules.dockerfile.df026_apt_not_apt_get import Df026AptNotAptGet
from ci_security.rules.dockerfile.df027_os_packages_unpinned import Df027OsPackagesUnpinned
from ci_security.rules.dockerfile.df028_set_password import Df028SetPassword
from ci_security.rules.dockerfile.df029_system_workdir import Df029SystemWorkdir
from ci_security.rules.dockerfile.df030_port_range import Df030PortRange
from ci_security.rules.dockerfile.df031_multiple_healthcheck import Df031MultipleHealthcheck
from ci_security.rules.dockerfile.df032_pipefail import Df032Pipefail
from ci_security.rules.dockerfile.df033_copy_from_image import Df033CopyFromImage
from ci_security.rules.dockerfile.df034_passwordless_sudo import Df034PasswordlessSudo

RULES: tuple[DockerfileRule, ...] = (
    Df001RootUser(),
    Df002LatestTag(),
    Df003DigestPin(),
    Df004AddLocal(),
    Df005AddUrl(),
    Df006PipeToShell(),
    Df007SecretEnv(),
    Df008Sudo(),
    Df009ExposeSsh(),
    Df010Healthcheck(),
    Df011NoInstallRecommends(),
    Df012AptLists(),
    Df013ApkCache(),
    Df014UpdateAlone(),
    Df015PipUnpinned(),
    Df016TlsDisabled(),
    Df017SignatureCheckDisabled(),
    Df018AssumeYes(),
    Df019RunCd(),
    Df020RelativeWorkdir(),
    Df021Maintainer(),
    Df022MultipleCmd(),
    Df023CopyFrom(),
    Df024RpmCache(),
    Df025CurlAndWget(),
    Df026AptNotAptGet(),
    Df027OsPackagesUnpinned(),
    Df028SetPassword(),
    Df029SystemWorkdir(),
    Df030PortRange(),
    Df031MultipleHealthcheck(),
    Df032Pipefail(),
    Df033CopyFromImage(),
    Df034PasswordlessSudo(),
)
