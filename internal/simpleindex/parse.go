package simpleindex

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"path"
	"strings"
)

// hashAlgos are the fragment names pip recognizes ("#sha256=...").
var hashAlgos = map[string]bool{"md5": true, "sha1": true, "sha224": true, "sha256": true, "sha384": true, "sha512": true}

// ParseHTML reads the <a href> links of a PEP 503 page or a find-links page.
// Links resolve against base, or against the page's <base href> when it has
// one. Anchors without a usable file name are skipped; the parser is
// tolerant, like a browser, and fails only on an unusable base.
func ParseHTML(data []byte, base *url.URL, source string) ([]Candidate, error) {
	if base == nil {
		return nil, fmt.Errorf("parse %s: no base URL", source)
	}
	s := string(data)
	var out []Candidate
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		name, attrs, next := parseTag(s, i+1)
		i = next
		switch name {
		case "base":
			if href, ok := attrs["href"]; ok {
				if u, err := base.Parse(href); err == nil {
					base = u
				}
			}
		case "a":
			href, ok := attrs["href"]
			if !ok {
				continue
			}
			if c, ok := candidateFromLink(base, href, source); ok {
				c.RequiresPython = attrs["data-requires-python"]
				c.YankedReason, c.Yanked = attrs["data-yanked"]
				meta := attrs["data-core-metadata"]
				if meta == "" { // PEP 714: the PEP 658 name is the fallback
					meta = attrs["data-dist-info-metadata"]
				}
				c.CoreMetadata, c.CoreMetadataHashes = htmlMetadata(meta)
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// htmlMetadata reads a data-core-metadata value: "true" or "<algo>=<hex>"
// (PEP 658). Like pip, any other non-empty value but "false" still means
// the file exists, without a usable hash.
func htmlMetadata(v string) (bool, map[string]string) {
	v = strings.TrimSpace(v)
	if v == "" || strings.EqualFold(v, "false") {
		return false, nil
	}
	algo, hx, ok := strings.Cut(v, "=")
	algo = strings.ToLower(algo)
	if !ok || !hashAlgos[algo] || hx == "" {
		return true, nil
	}
	return true, map[string]string{algo: strings.ToLower(hx)}
}

// jsonMetadata reads a PEP 691/714 "core-metadata" value: a boolean or a
// map of hashes. Other values are ignored, as the PEP lets clients do.
func jsonMetadata(raw json.RawMessage) (bool, map[string]string) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var m map[string]string
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return false, nil
	}
	var hs map[string]string
	for algo, hx := range m {
		if algo = strings.ToLower(algo); hashAlgos[algo] && hx != "" {
			if hs == nil {
				hs = map[string]string{}
			}
			hs[algo] = strings.ToLower(hx)
		}
	}
	return true, hs
}

// parseTag reads a tag's lower-cased name and attributes starting after
// "<"; it returns the index after ">". Attribute values are HTML-unescaped.
func parseTag(s string, i int) (string, map[string]string, int) {
	start := i
	for i < len(s) && isNameByte(s[i]) {
		i++
	}
	name := strings.ToLower(s[start:i])
	if name == "" { // "</a>", "<!DOCTYPE", stray "<"
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			return "", nil, len(s)
		}
		return "", nil, i + end + 1
	}
	attrs := map[string]string{}
	for i < len(s) {
		for i < len(s) && (isSpace(s[i]) || s[i] == '/') {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '>' {
			return name, attrs, i + 1
		}
		ks := i
		for i < len(s) && !isSpace(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/' {
			i++
		}
		key := strings.ToLower(s[ks:i])
		if key == "" { // a lone "=": skip it
			i++
			continue
		}
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		val := ""
		if i < len(s) && s[i] == '=' {
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					val, i = s[i+1:], len(s)
				} else {
					val, i = s[i+1:i+1+end], i+1+end+1
				}
			} else {
				vs := i
				for i < len(s) && !isSpace(s[i]) && s[i] != '>' {
					i++
				}
				val = s[vs:i]
			}
		}
		if _, dup := attrs[key]; !dup { // the first wins, as in HTML
			attrs[key] = html.UnescapeString(val)
		}
	}
	return name, attrs, len(s)
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// candidateFromLink resolves href and reads the file name from its path and
// the hashes from its fragment ("#sha256=..."), as pip does.
func candidateFromLink(base *url.URL, href, source string) (Candidate, bool) {
	u, err := base.Parse(strings.TrimSpace(href))
	if err != nil {
		return Candidate{}, false
	}
	frag := u.Fragment
	u.Fragment, u.RawFragment = "", ""
	name := path.Base(u.Path)
	if name == "." || name == "/" || name == "" || strings.HasSuffix(u.Path, "/") {
		return Candidate{}, false
	}
	c := Candidate{Filename: name, URL: u.String(), Source: source}
	for _, part := range strings.Split(frag, "&") {
		algo, hx, ok := strings.Cut(part, "=")
		if ok && hashAlgos[algo] && hx != "" {
			if c.Hashes == nil {
				c.Hashes = map[string]string{}
			}
			c.Hashes[algo] = strings.ToLower(hx)
		}
	}
	return c, true
}

// jsonPage is the PEP 691 project page.
type jsonPage struct {
	Meta struct {
		APIVersion string `json:"api-version"`
	} `json:"meta"`
	Files []struct {
		Filename       string            `json:"filename"`
		URL            string            `json:"url"`
		Hashes         map[string]string `json:"hashes"`
		RequiresPython *string           `json:"requires-python"`
		Yanked         json.RawMessage   `json:"yanked"`
		CoreMetadata   json.RawMessage   `json:"core-metadata"`
		DistInfoMeta   json.RawMessage   `json:"dist-info-metadata"`
	} `json:"files"`
}

// ParseJSON reads a PEP 691 project page; file URLs resolve against base.
func ParseJSON(data []byte, base *url.URL, source string) ([]Candidate, error) {
	if base == nil {
		return nil, fmt.Errorf("parse %s: no base URL", source)
	}
	var page jsonPage
	if err := json.Unmarshal(data, &page); err != nil {
		return nil, fmt.Errorf("parse PEP 691 page %s: %w", source, err)
	}
	if major, _, _ := strings.Cut(page.Meta.APIVersion, "."); major != "1" {
		return nil, fmt.Errorf("parse PEP 691 page %s: unsupported api-version %q", source, page.Meta.APIVersion)
	}
	var out []Candidate
	for i, f := range page.Files {
		u, err := base.Parse(f.URL)
		if err != nil || f.Filename == "" || strings.ContainsAny(f.Filename, "/\\") {
			return nil, fmt.Errorf("parse PEP 691 page %s: file %d: bad filename %q or url %q", source, i, f.Filename, f.URL)
		}
		u.Fragment, u.RawFragment = "", ""
		c := Candidate{Filename: f.Filename, URL: u.String(), Source: source}
		for algo, hx := range f.Hashes {
			if c.Hashes == nil {
				c.Hashes = map[string]string{}
			}
			c.Hashes[strings.ToLower(algo)] = strings.ToLower(hx)
		}
		if f.RequiresPython != nil {
			c.RequiresPython = *f.RequiresPython
		}
		// "yanked" is false, true, or a reason string (PEP 592 via PEP 691).
		switch y := strings.TrimSpace(string(f.Yanked)); {
		case y == "" || y == "false" || y == "null":
		case y == "true":
			c.Yanked = true
		default:
			var reason string
			if err := json.Unmarshal(f.Yanked, &reason); err != nil {
				return nil, fmt.Errorf("parse PEP 691 page %s: %s: yanked must be a boolean or a string", source, f.Filename)
			}
			c.Yanked, c.YankedReason = true, reason
		}
		meta := f.CoreMetadata
		if len(meta) == 0 { // PEP 714: the PEP 658 key is the fallback
			meta = f.DistInfoMeta
		}
		if len(meta) > 0 {
			c.CoreMetadata, c.CoreMetadataHashes = jsonMetadata(meta)
		}
		out = append(out, c)
	}
	return out, nil
}

// FromURL is the candidate for a direct reference ("name @ URL", or a path
// to a wheel): its file name and any "#sha256=" fragment come from the URL.
// A plain path becomes a file:// URL.
func FromURL(ref, source string) (Candidate, error) {
	base := fileURL(".")
	base.Path += "/"
	if u, err := url.Parse(ref); err != nil || u.Scheme == "" || len(u.Scheme) == 1 {
		p, frag, _ := strings.Cut(ref, "#")
		fu := fileURL(p)
		fu.Fragment = frag
		ref = fu.String()
	}
	c, ok := candidateFromLink(base, ref, source)
	if !ok {
		return Candidate{}, fmt.Errorf("direct reference %s: no file name in it", ref)
	}
	return c, nil
}
