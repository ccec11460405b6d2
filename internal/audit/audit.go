// Package audit proves that a payload is relocated: no path of the build
// machine survives in the files that name paths at run time. It reads the
// files where a build path would break the installed app or leak the
// builder's layout — shebangs (pip's `#!/bin/sh ”'exec'` trampoline
// included), the venv's activate scripts (sh, csh, fish, nu, PowerShell),
// pyvenv.cfg, RECORD, direct_url.json, .pth and .egg-link files and the
// co_filename strings of .pyc files — and reports every absolute path in
// them that lies neither under the package's install prefix nor in the
// system's own directories. Paths of this very build (its source, cache
// and temp directories) are looked for by name as well, in those files
// and in any other file the caller asks for (build-step output).
//
// No peer proves this: fpm, dh-virtualenv and pip-based builds relocate
// with sed over the venv and trust the result.
package audit

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Finding is one build path in one payload file.
type Finding struct {
	File   string // payload path, "/opt/app/venv/bin/flask"
	Offset int64  // byte offset of the path in the file
	Path   string // the offending path as found
	Where  string // what holds it: "shebang", "pyc co_filename", ...
	// BuildDir marks a directory of this build, found by name.
	BuildDir bool
}

func (f Finding) String() string {
	if f.BuildDir {
		return fmt.Sprintf("%s: offset %d: %s names %s, a directory of the build", f.File, f.Offset, f.Where, f.Path)
	}
	return fmt.Sprintf("%s: offset %d: %s names %s, outside the install prefix and the system's directories", f.File, f.Offset, f.Where, f.Path)
}

// maxAudited bounds the bytes read of one audited file: these files are
// small, and a larger one is not what its name says.
const maxAudited = 16 << 20

// systemRoots are the directories an installed package may name: the
// distro's own, and the runtime state systemd gives a service.
var systemRoots = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/var/lib", "/var/log", "/var/cache", "/var/spool", "/run", "/dev", "/proc", "/sys", "/srv"}

// Auditor checks payload files of one package.
type Auditor struct {
	// Prefix is the package's install prefix ("/opt/app"); "" lets
	// Finish take it from the venv's pyvenv.cfg.
	Prefix string
	// BuildPaths are directories of this build (source, cache, temp):
	// any mention of them in an audited file is a finding.
	BuildPaths []string

	// Checked counts the files Check has read.
	Checked int

	pending  []Finding // absolute paths outside the system roots, judged in Finish
	venvCfgs []string  // pyvenv.cfg files seen, for the prefix
}

// Kind tells whether the file at payload path p is audited, and as what;
// "" means it is not (its content may still start with "#!", which
// Check finds for files the caller passes anyway).
func Kind(p string) string {
	base := path.Base(p)
	switch {
	case strings.HasSuffix(base, ".pyc"):
		return "pyc co_filename"
	case base == "pyvenv.cfg":
		return "pyvenv.cfg"
	case base == "RECORD" && strings.HasSuffix(path.Dir(p), ".dist-info"):
		return "RECORD"
	case base == "direct_url.json" && strings.HasSuffix(path.Dir(p), ".dist-info"):
		return "direct_url.json"
	case strings.HasSuffix(base, ".pth"):
		return ".pth"
	case strings.HasSuffix(base, ".egg-link"):
		return ".egg-link"
	case strings.HasPrefix(base, "activate") && path.Base(path.Dir(p)) == "bin":
		return "activate script"
	case path.Base(path.Dir(p)) == "bin":
		return "script"
	}
	return ""
}

// Check reads one payload file and records its findings. kind is Kind(p)
// or, for a file audited only for this build's paths (build output),
// "build output".
func (a *Auditor) Check(p, kind string, r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, maxAudited))
	if err != nil {
		return fmt.Errorf("audit %s: %w", p, err)
	}
	a.Checked++
	where := kind
	switch kind {
	case "":
		where = "file"
	case "script":
		where = "shebang"
	}
	for _, bp := range a.buildPaths() {
		for off := 0; ; {
			i := bytes.Index(data[off:], []byte(bp))
			if i < 0 {
				break
			}
			a.pending = append(a.pending, Finding{File: p, Offset: int64(off + i), Path: bp, Where: where, BuildDir: true})
			off += i + len(bp)
		}
	}
	switch kind {
	case "", "build output":
		return nil
	case "pyc co_filename":
		a.judge(p, kind, pycStrings(data))
	case "script":
		if !bytes.HasPrefix(data, []byte("#!")) {
			return nil
		}
		// The shebang, and pip's trampoline on the lines after it.
		a.judge(p, "shebang", textPaths(firstLines(data, 3)))
	case "pyvenv.cfg":
		a.venvCfgs = append(a.venvCfgs, p)
		a.judge(p, kind, textPaths(data))
	default:
		a.judge(p, kind, textPaths(data))
	}
	return nil
}

// buildPaths are the build directories worth looking for: the prefix or
// a parent of it would match every legitimate path.
func (a *Auditor) buildPaths() []string {
	var out []string
	for _, bp := range a.BuildPaths {
		bp = strings.TrimRight(bp, "/")
		if len(bp) < 2 || a.Prefix != "" && (under(a.Prefix, bp) || under(bp, a.Prefix)) {
			continue
		}
		out = append(out, bp)
	}
	return out
}

// found is an absolute path at an offset of a file.
type found struct {
	off  int
	path string
}

func (a *Auditor) judge(file, kind string, paths []found) {
	for _, f := range paths {
		if system(f.path) {
			continue
		}
		a.pending = append(a.pending, Finding{File: file, Offset: int64(f.off), Path: f.path, Where: kind})
	}
}

// Finish returns every finding, by file and offset. A path under the
// install prefix is not one.
func (a *Auditor) Finish() []Finding {
	prefix := a.Prefix
	if prefix == "" && len(a.venvCfgs) == 1 {
		// <prefix>/venv/pyvenv.cfg
		prefix = path.Dir(path.Dir(a.venvCfgs[0]))
	}
	sort.SliceStable(a.pending, func(i, j int) bool {
		if a.pending[i].File != a.pending[j].File {
			return a.pending[i].File < a.pending[j].File
		}
		return a.pending[i].Offset < a.pending[j].Offset
	})
	var out []Finding
	for _, f := range a.pending {
		if prefix != "" && prefix != "/" && under(f.Path, prefix) && !f.BuildDir {
			continue
		}
		if n := len(out); n > 0 && out[n-1].File == f.File && out[n-1].Offset == f.Offset {
			continue // the same path, found by name and by place
		}
		out = append(out, f)
	}
	return out
}

// under reports p == dir or p below dir.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimRight(dir, "/")+"/")
}

func system(p string) bool {
	for _, r := range systemRoots {
		if under(p, r) {
			return true
		}
	}
	return false
}

// firstLines is data up to the end of its nth line.
func firstLines(data []byte, n int) []byte {
	end := 0
	for ; n > 0 && end < len(data); n-- {
		i := bytes.IndexByte(data[end:], '\n')
		if i < 0 {
			return data
		}
		end += i + 1
	}
	return data[:end]
}

// isPathByte is a byte that may continue an absolute path in a script or
// config file.
func isPathByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/._-+@%~,", c) >= 0
}

// textPaths finds the absolute paths in text: a "/" at the start or after
// a separator, then path bytes. URLs are skipped, except file:// ones,
// whose path counts.
func textPaths(data []byte) []found {
	var out []found
	for i := 0; i < len(data); i++ {
		if data[i] != '/' || i > 0 && isPathByte(data[i-1]) {
			continue
		}
		j := i
		for j < len(data) && isPathByte(data[j]) {
			j++
		}
		p := strings.TrimRight(string(data[i:j]), ".,")
		start := i
		if strings.HasPrefix(p, "//") {
			if !bytes.HasSuffix(data[:i], []byte("file:")) {
				i = j
				continue
			}
			trimmed := strings.TrimLeft(p, "/")
			start += len(p) - len(trimmed) - 1
			p = "/" + trimmed
		}
		if len(p) > 1 {
			out = append(out, found{off: start, path: path.Clean(p)})
		}
		i = j
	}
	return out
}

// pycStrings finds the co_filename values of a marshalled code object (a
// .pyc after its 16-byte header) and of the code objects nested in it:
// the string tokens that are absolute paths of a .py file. It reads the
// string tokens rather than the whole object graph, so it holds for every
// Python 3 marshal version; a string constant of the module's own that
// is an absolute .py path is reported too, which is as much a leak.
func pycStrings(data []byte) []found {
	var out []found
	for i := 16; i < len(data); i++ {
		var n, start int
		switch data[i] &^ 0x80 { // FLAG_REF
		case 'z', 'Z': // short ASCII, one length byte
			if i+1 >= len(data) {
				continue
			}
			n, start = int(data[i+1]), i+2
		case 'a', 'A', 'u', 's', 't': // 4-byte little-endian length
			if i+5 > len(data) {
				continue
			}
			n, start = int(binary.LittleEndian.Uint32(data[i+1:])), i+5
		default:
			continue
		}
		if n < 2 || n > 4096 || start+n > len(data) || data[start] != '/' {
			continue
		}
		s := data[start : start+n]
		if !bytes.HasSuffix(s, []byte(".py")) || bytes.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			continue
		}
		out = append(out, found{off: i, path: string(s)})
		i = start + n - 1
	}
	return out
}
