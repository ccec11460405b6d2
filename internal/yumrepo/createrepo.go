package yumrepo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/rpm"
)

// rpmsense bits (lib/rpmds.h) that createrepo_c looks at.
const (
	senseMask       = 0x0f
	sensePrereq     = 1 << 6
	senseScriptPre  = 1 << 9
	senseScriptPost = 1 << 10
	senseMissingOK  = 1 << 19
	senseStrong     = 1 << 27
	fileGhost       = 1 << 6
	modeTypeMask    = 0o170000
	modeDir         = 0o040000
)

// depKind names a dependency list while reading, in createrepo_c's order.
type depKind int

const (
	depProvides depKind = iota
	depConflicts
	depObsoletes
	depRequires
	depSuggests
	depEnhances
	depRecommends
	depSupplements
	depOldSuggests
	depOldEnhances
)

var depTags = [...]struct{ name, flags, version uint32 }{
	depProvides:    {tagProvideName, tagProvideFlags, tagProvideVersion},
	depConflicts:   {tagConflictName, tagConflictFlags, tagConflictVersion},
	depObsoletes:   {tagObsoleteName, tagObsoleteFlags, tagObsoleteVersion},
	depRequires:    {tagRequireName, tagRequireFlags, tagRequireVersion},
	depSuggests:    {tagSuggestName, tagSuggestFlags, tagSuggestVer},
	depEnhances:    {tagEnhanceName, tagEnhanceFlags, tagEnhanceVer},
	depRecommends:  {tagRecommendName, tagRecommendFlags, tagRecommendVer},
	depSupplements: {tagSupplementName, tagSupplementFlags, tagSupplementVer},
	depOldSuggests: {tagOldSuggestName, tagOldSuggestFlags, tagOldSuggestVer},
	depOldEnhances: {tagOldEnhanceName, tagOldEnhanceFlags, tagOldEnhanceVer},
}

// packageFromRPM applies createrepo_c's rules (src/parsehdr.c) to the
// headers of one rpm.
func packageFromRPM(f rpmFile, opts ReadOptions) (Package, error) {
	h := f.main
	p := Package{
		Checksum:    f.sha256,
		PackageSize: f.size,
		FileTime:    opts.FileTime,
		Location:    opts.Location,
		HeaderStart: f.headerStart,
		HeaderEnd:   f.headerEnd,
	}
	strs := []struct {
		tag uint32
		dst *string
	}{
		{tagName, &p.Name}, {tagArch, &p.Arch}, {tagVersion, &p.Version},
		{tagRelease, &p.Release}, {tagSummary, &p.Summary},
		{tagDescription, &p.Description}, {tagURL, &p.URL},
		{tagLicense, &p.License}, {tagVendor, &p.Vendor}, {tagGroup, &p.Group},
		{tagBuildHost, &p.BuildHost}, {tagSourceRPM, &p.SourceRPM},
		{tagPackager, &p.Packager},
	}
	for _, s := range strs {
		v, err := h.string(s.tag)
		if err != nil {
			return Package{}, err
		}
		*s.dst = v
	}
	if src, _, err := h.int(tagSourcePackage); err != nil {
		return Package{}, err
	} else if src != 0 {
		p.Arch = "src"
	}
	epoch, _, err := h.int(tagEpoch)
	if err != nil {
		return Package{}, err
	}
	p.Epoch = strconv.FormatInt(epoch, 10)
	if p.BuildTime, _, err = h.int(tagBuildTime); err != nil {
		return Package{}, err
	}
	if p.InstalledSize, err = firstInt(tagRef{h, tagSize}, tagRef{h, tagLongSize}); err != nil {
		return Package{}, err
	}
	// rpm moves the payload size into the signature header; createrepo_c
	// sees it merged back as ARCHIVESIZE.
	if p.ArchiveSize, err = firstInt(tagRef{h, tagArchiveSize}, tagRef{f.sig, sigTagPayloadSize},
		tagRef{f.sig, sigTagLongArchiveSize}, tagRef{h, tagLongArchiveSize}); err != nil {
		return Package{}, err
	}
	if p.Files, err = readFiles(h); err != nil {
		return Package{}, err
	}
	if err := readDeps(h, &p); err != nil {
		return Package{}, err
	}
	limit := opts.ChangelogLimit
	if limit == 0 {
		limit = DefaultChangelogLimit
	}
	if p.Changelogs, err = readChangelogs(h, limit); err != nil {
		return Package{}, err
	}
	return p, nil
}

type tagRef struct {
	h   header
	tag uint32
}

// firstInt returns the value of the first present tag.
func firstInt(refs ...tagRef) (int64, error) {
	for _, r := range refs {
		v, ok, err := r.h.int(r.tag)
		if err != nil {
			return 0, err
		}
		if ok {
			return v, nil
		}
	}
	return 0, nil
}

func readFiles(h header) ([]PackageFile, error) {
	dirs, err := h.strings(tagDirNames)
	if err != nil {
		return nil, err
	}
	base, err := h.strings(tagBaseNames)
	if err != nil {
		return nil, err
	}
	idx, err := h.ints(tagDirIndexes)
	if err != nil {
		return nil, err
	}
	flags, err := h.ints(tagFileFlags)
	if err != nil {
		return nil, err
	}
	modes, err := h.ints(tagFileModes)
	if err != nil {
		return nil, err
	}
	n := min(len(base), len(idx), len(flags), len(modes))
	if n == 0 {
		return nil, nil
	}
	files := make([]PackageFile, 0, n)
	for i := range n {
		if idx[i] >= int64(len(dirs)) {
			return nil, fmt.Errorf("%w: file %q has directory index %d of %d", ErrMalformed, base[i], idx[i], len(dirs))
		}
		f := PackageFile{Path: dirs[idx[i]] + base[i]}
		switch {
		case modes[i]&modeTypeMask == modeDir:
			f.Type = FileDir
		case flags[i]&fileGhost != 0:
			f.Type = FileGhost
		}
		files = append(files, f)
	}
	return files, nil
}

func readDeps(h header, p *Package) error {
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
	for kind, tags := range depTags {
		names, err := h.strings(tags.name)
		if err != nil {
			return err
		}
		flags, err := h.ints(tags.flags)
		if err != nil {
			return err
		}
		versions, err := h.strings(tags.version)
		if err != nil {
			return err
		}
		var libc *Dep
		for i := range min(len(names), len(flags), len(versions)) {
			name, num, full := names[i], flags[i], versions[i]
			flag := flagFromSense(num)
			key := name + flag.String() + full
			pre := false
			if depKind(kind) == depRequires {
				if strings.HasPrefix(name, "rpmlib(") {
					continue
				}
				if strings.HasPrefix(name, "/") && files[name] && isPrimaryFile(name) {
					continue
				}
				if provided[key] {
					continue
				}
				pre = num&(sensePrereq|senseScriptPre|senseScriptPost) != 0
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
			switch depKind(kind) {
			case depProvides:
				provided[key] = true
				p.Provides = append(p.Provides, d)
			case depConflicts:
				p.Conflicts = append(p.Conflicts, d)
			case depObsoletes:
				p.Obsoletes = append(p.Obsoletes, d)
			case depRequires:
				if num&senseMissingOK != 0 {
					p.Recommends = append(p.Recommends, d)
					continue
				}
				d.Pre = pre
				if strings.HasPrefix(name, "libc.so.6") {
					// Only the highest libc.so.6 symbol version is listed.
					if libc == nil || compareLibcDeps(libc.Name, name) == 2 {
						dd := d
						libc = &dd
					}
					continue
				}
				p.Requires = append(p.Requires, d)
				lastRequire[name] = seen{flag.String(), full, pre}
			case depSuggests:
				p.Suggests = append(p.Suggests, d)
			case depEnhances:
				p.Enhances = append(p.Enhances, d)
			case depRecommends:
				p.Recommends = append(p.Recommends, d)
			case depSupplements:
				p.Supplements = append(p.Supplements, d)
			case depOldSuggests:
				if num&senseStrong != 0 {
					p.Recommends = append(p.Recommends, d)
				} else {
					p.Suggests = append(p.Suggests, d)
				}
			case depOldEnhances:
				if num&senseStrong != 0 {
					p.Supplements = append(p.Supplements, d)
				} else {
					p.Enhances = append(p.Enhances, d)
				}
			}
		}
		if libc != nil {
			p.Requires = append(p.Requires, *libc)
		}
	}
	return nil
}

// flagFromSense maps rpm's comparison bits; any other mix is unversioned,
// as createrepo_c's cr_flag_to_str has it.
func flagFromSense(v int64) Flag {
	switch v & senseMask {
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

func readChangelogs(h header, limit int) ([]Changelog, error) {
	times, err := h.ints(tagChangelogTime)
	if err != nil {
		return nil, err
	}
	names, err := h.strings(tagChangelogName)
	if err != nil {
		return nil, err
	}
	texts, err := h.strings(tagChangelogText)
	if err != nil {
		return nil, err
	}
	n := min(len(times), len(names), len(texts))
	if limit >= 0 {
		n = min(n, limit)
	}
	if n == 0 {
		return nil, nil
	}
	// read is newest first, as rpm stores them.
	read := make([]Changelog, 0, n)
	var last int64
	for i := range n {
		author := names[i]
		if len(author) > 1 {
			author = author[:1] + strings.TrimRight(author[1:], " ")
		}
		read = append(read, Changelog{Author: author, Date: times[i], Text: texts[i]})
		if times[i] == last {
			// createrepo_c makes equal dates distinct by bumping the newer
			// entries by one second each.
			t := times[i]
			for j := i - 1; j >= 0 && read[j].Date == t; j-- {
				read[j].Date++
				t++
			}
		} else {
			last = times[i]
		}
	}
	out := make([]Changelog, n)
	for i, c := range read {
		out[n-1-i] = c
	}
	return out, nil
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
