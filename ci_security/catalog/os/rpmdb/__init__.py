"""Readers for the three rpm database formats, and the header blobs they all store.

rpm has kept its package database in three containers over the years: BerkeleyDB hash files
(`/var/lib/rpm/Packages`, RHEL <= 8, CentOS, Amazon Linux 2), its own NDB format (`Packages.db`,
SUSE) and SQLite (`rpmdb.sqlite`, RHEL 9, Fedora 33+, Amazon Linux 2023, CBL-Mariner). Each stores
the same thing: one rpm header blob per installed package. `bdb`, `ndb` and `sqlite` each yield those
blobs in storage order, and `header` decodes one blob into the few tags a scanner needs. Everything
is parsed from the file itself: no rpm, librpm or libdb is needed.
"""
