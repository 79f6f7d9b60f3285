#!/usr/bin/env bash
# Create, or reuse, the virtual environment the CI step runs in: exactly the distributions of
# requirements/action.lock.txt, installed hash-checked, wheels only, no dependency resolution.
#
#   scripts/venv.sh PYTHON VENV
#
# A VENV that already exists (restored from the CI cache, or made by an earlier step of the same
# job) is reused only when `scripts/lock.py check-env` finds exactly the locked versions in it;
# anything else is deleted and rebuilt. The check runs isolated (-I): a PYTHONPATH or user
# site-packages of the job must not make a broken environment look complete. The package itself is not installed: the composite action
# runs it from its own checkout (the pinned commit), so the environment depends on nothing but the
# lock file, the Python version and the platform, which is what the cache key is made of.
#
# Prints `python=<the environment's interpreter>` and `installed=true|false` (append to
# $GITHUB_OUTPUT); everything else goes to stderr. Works with the bash of Linux, macOS and Windows
# runners.
set -euo pipefail
if (($# != 2)); then
  echo "usage: scripts/venv.sh PYTHON VENV" >&2
  exit 2
fi
python=$1 venv=$2
scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lock="$scripts/../requirements/action.lock.txt"

venv_python() {
  if [[ -e "$1/Scripts/python.exe" ]]; then echo "$1/Scripts/python.exe"; else echo "$1/bin/python"; fi
}

installed=false
vpy=$(venv_python "$venv")
if ! { [[ -e $vpy ]] && "$vpy" -I "$scripts/lock.py" check-env --lock "$lock"; }; then
  [[ -e $venv ]] && echo "ci-security: $venv does not match the lock; rebuilding it" >&2
  rm -rf "$venv"
  # A job's PYTHONPATH would let pip count a package found there as installed and skip it.
  unset PYTHONPATH
  pip_help=$("$python" -m pip --help 2>/dev/null || true)
  if [[ $pip_help == *"--python <python>"* ]]; then
    # No pip inside: the interpreter's own pip installs into it (`--python`, pip >= 22.3), which
    # saves seeding pip into every environment (5 s) and keeps the cached one to the locked files.
    "$python" -m venv --without-pip "$venv"
    vpy=$(venv_python "$venv")
    pip=("$python" -m pip --python "$vpy")
  else
    # An older pip (or none) beside the interpreter: the environment gets its own.
    "$python" -m venv "$venv"
    vpy=$(venv_python "$venv")
    pip=("$vpy" -m pip)
  fi
  "${pip[@]}" install --quiet --disable-pip-version-check --no-input \
    --require-hashes --no-deps --only-binary :all: -r "$lock" >&2
  "$vpy" -I "$scripts/lock.py" check-env --lock "$lock"
  installed=true
fi
echo "python=$vpy"
echo "installed=$installed"
