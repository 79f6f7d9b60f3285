"""The vulnerability database as an OCI artifact: `db push` packs and uploads it, `db pull` (and
`db update --from`, the CI step's `db-repository`) downloads, verifies and installs it, and
`signature` checks a Sigstore signature attached to it.

It sits above both the registry client (`image`) and the store (`vulndb`), which know nothing of
each other.
"""
