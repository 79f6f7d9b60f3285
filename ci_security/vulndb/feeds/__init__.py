"""Vulnerability data besides OSV exports: NVD, CVE JSON 5, CISA KEV, FIRST EPSS, Red Hat's
repository-to-CPE mapping, Amazon Linux `updateinfo.xml` and Oracle Linux OVAL, each read bounded
(`stream`), and the `db update` sources that download them (`sources`).
"""
