// Package yumrepo writes and reads yum/dnf repository metadata (rpm-md,
// "repodata"): repomd.xml and the primary, filelists and other XML documents
// as written by createrepo_c (rpm-software-management/createrepo_c,
// src/xml_dump_*.c, src/parsehdr.c, src/repomd.c) and read by libsolv and dnf.
//
// Render writes the content createrepo_c writes for the same packages, byte
// for byte before compression: the same element order, namespaces, escaping,
// dependency filtering (no rpmlib() requires, no requires satisfied by the
// package's own primary files or identical provides, only the highest
// libc.so.6 require) and primary file selection (/etc/*, *bin/*,
// /usr/lib/sendmail). ReadRPM builds a Package from an .rpm file with a small
// reader of rpm's header format (lead, signature header, main header).
// ParsePrimary, ParseFilelists and ParseOther read existing metadata back into
// the same model, so a repository grows without re-reading its packages.
package yumrepo
