"""The policy: what fails the build, what is accepted (until when, and why), and rules about the image.

- `load.py` reads `.ci-security.yml` (validated by `schema.json`, every problem at `file:line:col`);
- `model.py` holds it as frozen dataclasses;
- `vex.py` reads OpenVEX documents and writes the policy's ignores as one;
- `baseline.py` reads the fingerprints of a previous JSON report, for `fail_on.new_only`;
- `evaluate.py` turns a scan result and a policy into the one `Decision` every report and the exit
  code derive from.

Without a policy file the defaults apply: a vulnerability of severity HIGH or CRITICAL that has a
fixed version fails the build (`fail_on: {severity: high, fixable_only: true}`), the gate the
trivy-action README recommends (`severity: CRITICAL,HIGH`, `ignore-unfixed: true`); misconfigurations
of severity HIGH or CRITICAL fail it too. Nothing is ignored and no image rule applies.
"""
