// Package pymeta parses the metadata files of an installed or packed Python
// distribution, without any I/O:
//
//   - METADATA: core metadata (packaging.python.org "Core metadata
//     specifications"), an RFC 822-style header block of "Name: value" lines
//     with indented continuation lines, then an optional body that is the
//     Description.
//   - WHEEL: the wheel's own header block (PEP 427): Wheel-Version,
//     Generator, Root-Is-Purelib, Tag (repeated), Build.
//   - RECORD: the CSV manifest of a distribution (PEP 376, PEP 627, PEP 427):
//     "path,algorithm=urlsafe-base64-digest-without-padding,size" per line;
//     a writer that emits it as Python's csv module (and so pip) does.
//   - entry_points.txt: the INI file of the "Entry points specification":
//     "[group]" sections of "name = module.path:object.attr [extras]" lines.
package pymeta
