package yumrepo

import (
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/rpm"
)

// File mode bits createrepo_c looks at.
const (
	modeTypeMask = 0o170000
	modeDir      = 0o040000
)

// packageFromRPM applies createrepo_c's rules (src/parsehdr.c) to what
// rpm read of one package.
func packageFromRPM(f *rpm.File, opts ReadOptions) (Package, error) {
	p := Package{
		Checksum: f.SHA256, PackageSize: f.FileSize, FileTime: opts.FileTime, Location: opts.Location,
		HeaderStart: f.MainHeaderStart, HeaderEnd: f.MainHeaderEnd,
		Name: f.Name, Arch: f.Arch, Epoch: "0", Version: f.Version, Release: f.Release,
		Summary: f.Summary, Description: f.Description, URL: f.URL,
		License: f.License, Vendor: f.Vendor, Group: f.Group,
		BuildHost: f.BuildHost, SourceRPM: f.SourceRPM, Packager: f.Packager,
		InstalledSize: f.Size, ArchiveSize: f.ArchiveSize,
	}
	if f.SourcePackage {
		p.Arch = "src"
	}
	if f.Epoch != nil {
		p.Epoch = strconv.Itoa(*f.Epoch)
	}
	if !f.BuildTime.IsZero() {
		p.BuildTime = f.BuildTime.Unix()
	}
	p.Files = readFiles(f.Files)
	readDeps(f.Info, &p)
	limit := opts.ChangelogLimit
	if limit == 0 {
		limit = DefaultChangelogLimit
	}
	p.Changelogs = readChangelogs(f.Changelog, limit)
	return p, nil
}

func readFiles(files []rpm.FileInfo) []PackageFile {
	if len(files) == 0 {
		return nil
	}
	out := make([]PackageFile, 0, len(files))
	for _, fi := range files {
		f := PackageFile{Path: fi.Name}
		switch {
		case fi.Mode&modeTypeMask == modeDir:
			f.Type = FileDir
		case fi.Flags&rpm.FileGhost != 0:
			f.Type = FileGhost
		}
		out = append(out, f)
	}
	return out
}

// readDeps lists the dependencies in createrepo_c's order: provides,
// conflicts, obsoletes, requires, then the weak ones.
func readDeps(info *rpm.Info, p *Package) {
	files := make(map[string]bool, len(p.Files))
	for _, f := range p.Files {
		files[f.Path] = true
	}
	provided := map[string]bool{}
	type seen struct {
		flags, version string
		pre            bool
	}
	lastRequire := map[string]seen{}
	lists := []struct {
		deps []rpm.Dependency
		add  func(d Dep, sense rpm.DepFlags)
	}{
		{info.Provides, func(d Dep, _ rpm.DepFlags) { p.Provides = append(p.Provides, d) }},
		{info.Conflicts, func(d Dep, _ rpm.DepFlags) { p.Conflicts = append(p.Conflicts, d) }},
		{info.Obsoletes, func(d Dep, _ rpm.DepFlags) { p.Obsoletes = append(p.Obsoletes, d) }},
		{info.Requires, nil}, // below
		{info.Suggests, func(d Dep, _ rpm.DepFlags) { p.Suggests = append(p.Suggests, d) }},
		{info.Enhances, func(d Dep, _ rpm.DepFlags) { p.Enhances = append(p.Enhances, d) }},
		{info.Recommends, func(d Dep, _ rpm.DepFlags) { p.Recommends = append(p.Recommends, d) }},
		{info.Supplements, func(d Dep, _ rpm.DepFlags) { p.Supplements = append(p.Supplements, d) }},
		{info.OldSuggests, func(d Dep, sense rpm.DepFlags) {
			if sense&rpm.SenseStrong != 0 {
				p.Recommends = append(p.Recommends, d)
			} else {
				p.Suggests = append(p.Suggests, d)
			}
		}},
		{info.OldEnhances, func(d Dep, sense rpm.DepFlags) {
			if sense&rpm.SenseStrong != 0 {
				p.Supplements = append(p.Supplements, d)
			} else {
				p.Enhances = append(p.Enhances, d)
			}
		}},
	}
	for i, list := range lists {
		requires := i == 3
		provides := i == 0
		var libc *Dep
		for _, dep := range list.deps {
			name, sense, full := dep.Name, dep.Flags, dep.Version
			flag := flagFromSense(sense)
			key := name + flag.String() + full
			pre := false
			if requires {
				if strings.HasPrefix(name, "rpmlib(") {
					continue
				}
				if strings.HasPrefix(name, "/") && files[name] && isPrimaryFile(name) {
					continue
				}
				if provided[key] {
					continue
				}
				pre = sense&(rpm.SensePrereq|rpm.SenseScriptPre|rpm.SenseScriptPost) != 0
				if s, ok := lastRequire[name]; ok && s.flags == flag.String() && s.version == full && s.pre == pre {
					continue
				}
			}
			epoch, ver, rel, ok := splitEVR(full)
			if !ok {
				// createrepo_c warns and drops a dependency with a bad epoch.
				continue
			}
			d := Dep{Name: name, Flags: flag}
			if flag != FlagNone {
				d.Epoch, d.Ver, d.Rel = epoch, ver, rel
			}
			switch {
			case provides:
				provided[key] = true
				list.add(d, sense)
			case !requires:
				list.add(d, sense)
			case sense&rpm.SenseMissingOK != 0:
				p.Recommends = append(p.Recommends, d)
			case strings.HasPrefix(name, "libc.so.6"):
				// Only the highest libc.so.6 symbol version is listed.
				d.Pre = pre
				if libc == nil || compareLibcDeps(libc.Name, name) == 2 {
					dd := d
					libc = &dd
				}
			default:
				d.Pre = pre
				p.Requires = append(p.Requires, d)
				lastRequire[name] = seen{flag.String(), full, pre}
			}
		}
		if libc != nil {
			p.Requires = append(p.Requires, *libc)
		}
	}
}

// flagFromSense maps rpm's comparison bits; any other mix is unversioned,
// as createrepo_c's cr_flag_to_str has it.
func flagFromSense(v rpm.DepFlags) Flag {
	switch v & (rpm.Less | rpm.Greater | rpm.Equal) {
	case 2:
		return FlagLT
	case 4:
		return FlagGT
	case 8:
		return FlagEQ
	case 10:
		return FlagLE
	case 12:
		return FlagGE
	}
	return FlagNone
}

// splitEVR splits "[epoch:]version[-release]" like createrepo_c's
// cr_str_to_evr: a missing epoch is "0", a non-numeric one is an error.
func splitEVR(s string) (epoch, version, release string, ok bool) {
	if s == "" {
		return "", "", "", true
	}
	rest := s
	epoch = "0"
	if i := strings.IndexByte(s, ':'); i >= 0 {
		e := s[:i]
		if e != "" {
			if !isStrtolNumber(e) {
				return "", "", "", false
			}
			epoch = e
		}
		rest = s[i+1:]
	}
	version, release, _ = strings.Cut(rest, "-")
	return epoch, version, release, true
}

// isStrtolNumber reports whether C's strtol consumes all of s.
func isStrtolNumber(s string) bool {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// readChangelogs takes rpm's entries, newest first, and returns the newest
// limit of them oldest first, as createrepo_c lists them.
func readChangelogs(entries []rpm.ChangelogEntry, limit int) []Changelog {
	n := len(entries)
	if limit >= 0 {
		n = min(n, limit)
	}
	if n == 0 {
		return nil
	}
	read := make([]Changelog, 0, n)
	var last int64
	for i, e := range entries[:n] {
		author := e.Author
		if len(author) > 1 {
			author = author[:1] + strings.TrimRight(author[1:], " ")
		}
		date := e.Time.Unix()
		read = append(read, Changelog{Author: author, Date: date, Text: e.Text})
		if date == last {
			// createrepo_c makes equal dates distinct by bumping the newer
			// entries by one second each.
			t := date
			for j := i - 1; j >= 0 && read[j].Date == t; j-- {
				read[j].Date++
				t++
			}
		} else {
			last = date
		}
	}
	out := make([]Changelog, n)
	for i, c := range read {
		out[n-1-i] = c
	}
	return out
}

// compareLibcDeps is createrepo_c's cr_compare_dependency for two
// "libc.so.6(GLIBC_x.y)(64bit)" names: 0 same, 1 first bigger, 2 second.
func compareLibcDeps(a, b string) int {
	if a == b {
		return 0
	}
	o1, o2 := strings.IndexByte(a, '('), strings.IndexByte(b, '(')
	switch {
	case o1 < 0 && o2 < 0:
		return 0
	case o1 < 0:
		return 2
	case o2 < 0:
		return 1
	}
	e1, e2 := indexFrom(a, o1, ')'), indexFrom(b, o2, ')')
	switch {
	case e1 < 0 && e2 < 0:
		return -1
	case e1 < 0:
		return 2
	case e2 < 0:
		return 1
	}
	v1, v2 := o1+1, o2+1
	switch {
	case v1 == e1 && v2 == e2:
		return 0
	case v1 == e1:
		return 2
	case v2 == e2:
		return 1
	}
	for v1 < len(a) && (a[v1] < '0' || a[v1] > '9') {
		v1++
	}
	for v2 < len(b) && (b[v2] < '0' || b[v2] > '9') {
		v2++
	}
	switch {
	case v1 > e1 && v2 > e2:
		return 0
	case v1 > e1:
		return 2
	case v2 > e2:
		return 1
	}
	switch rpm.CompareVersions(a[v1:e1], b[v2:e2]) {
	case 1:
		return 1
	case -1:
		return 2
	}
	return 0
}

func indexFrom(s string, from int, c byte) int {
	i := strings.IndexByte(s[from:], c)
	if i < 0 {
		return -1
	}
	return from + i
}
