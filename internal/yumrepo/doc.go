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
// /usr/lib/sendmail). ReadRPM builds a Package from an .rpm file: the rpm
// package reads the headers (rpm.ReadAll), and this one applies
// createrepo_c's rules to what it found.
// ParsePrimary, ParseFilelists and ParseOther read existing metadata back into
// the same model, so a repository grows without re-reading its packages.
//
// For repositories of many thousands of packages, LoadIndex cuts the
// documents into each package's elements instead of parsing them, and
// Render writes those elements back unchanged: adding one package costs
// decompressing and compressing the documents (on every core), not parsing
// and rendering them. ReadRPMInfo and Tally let a publisher sign an rpm on
// its way into the pool and describe the signed copy without reading it
// again.
package yumrepo
