package pymeta

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strconv"
	"strings"
)

// ErrWeakHash is returned for RECORD digests the wheel spec forbids
// (md5, sha1) or that this package cannot compute.
var ErrWeakHash = errors.New("hash algorithm not allowed")

// Hash is a RECORD digest: "sha256=<urlsafe base64 without padding>".
type Hash struct {
	Algorithm string // "sha256"
	Digest    []byte
}

// ParseHash parses "algorithm=digest". Padding on the digest is tolerated.
func ParseHash(s string) (Hash, error) {
	algo, enc, ok := strings.Cut(s, "=")
	if !ok || algo == "" || enc == "" {
		return Hash{}, fmt.Errorf("hash %q is not algorithm=digest", s)
	}
	for i := 0; i < len(algo); i++ {
		c := algo[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return Hash{}, fmt.Errorf("hash %q: bad algorithm name", s)
		}
	}
	d, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
	if err != nil {
		return Hash{}, fmt.Errorf("hash %q: digest is not urlsafe base64: %w", s, err)
	}
	if len(d) == 0 {
		// "sha256==" is all padding: no digest at all.
		return Hash{}, fmt.Errorf("hash %q is not algorithm=digest", s)
	}
	return Hash{Algorithm: algo, Digest: d}, nil
}

// String formats the hash as RECORD writes it; "" for the zero Hash.
func (h Hash) String() string {
	if h.IsZero() {
		return ""
	}
	return h.Algorithm + "=" + base64.RawURLEncoding.EncodeToString(h.Digest)
}

// IsZero reports an absent hash.
func (h Hash) IsZero() bool { return h.Algorithm == "" }

// Equal reports the same algorithm and digest.
func (h Hash) Equal(o Hash) bool {
	return h.Algorithm == o.Algorithm && bytes.Equal(h.Digest, o.Digest)
}

// NewHasher returns a hash.Hash for a RECORD algorithm. The wheel spec
// allows sha256 or stronger; md5 and sha1 are refused with ErrWeakHash.
func NewHasher(algorithm string) (hash.Hash, error) {
	switch algorithm {
	case "sha256":
		return sha256.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("RECORD algorithm %q: %w", algorithm, ErrWeakHash)
}

// SHA256 hashes b as a RECORD sha256 digest.
func SHA256(b []byte) Hash {
	sum := sha256.Sum256(b)
	return Hash{Algorithm: "sha256", Digest: sum[:]}
}

// RecordEntry is one RECORD row.
type RecordEntry struct {
	Path string // "/"-separated, relative to the install root
	Hash Hash   // zero when absent (RECORD itself, *.pyc)
	Size int64  // -1 when absent
}

// ParseRecord parses a RECORD file. Every row must have three fields (the
// last two may be empty) and a non-empty path; blank lines are skipped.
func ParseRecord(data []byte) ([]RecordEntry, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true // Python's csv reader takes a stray quote literally
	var out []RecordEntry
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parse RECORD: %w", err)
		}
		line, _ := r.FieldPos(0)
		if len(row) != 3 {
			return nil, fmt.Errorf("parse RECORD: line %d: %d fields, want path,hash,size", line, len(row))
		}
		e := RecordEntry{Path: row[0], Size: -1}
		if e.Path == "" {
			return nil, fmt.Errorf("parse RECORD: line %d: empty path", line)
		}
		if row[1] != "" {
			if e.Hash, err = ParseHash(row[1]); err != nil {
				return nil, fmt.Errorf("parse RECORD: line %d: %w", line, err)
			}
		}
		if row[2] != "" {
			e.Size, err = strconv.ParseInt(row[2], 10, 64)
			if err != nil || e.Size < 0 || !isDigits(row[2]) {
				return nil, fmt.Errorf("parse RECORD: line %d: size %q is not a byte count", line, row[2])
			}
		}
		out = append(out, e)
	}
}

// SortRecord orders entries as pip does before writing: by path, then hash,
// then size, each compared as text.
func SortRecord(entries []RecordEntry) {
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if ah, bh := a.Hash.String(), b.Hash.String(); ah != bh {
			return ah < bh
		}
		return sizeText(a.Size) < sizeText(b.Size)
	})
}

// WriteRecord writes entries in the given order the way Python's csv
// writer does (minimal quoting, "\r\n" line ends), which is what pip emits.
func WriteRecord(w io.Writer, entries []RecordEntry) error {
	bw := bufio.NewWriter(w)
	for _, e := range entries {
		if e.Path == "" {
			return fmt.Errorf("write RECORD: entry with empty path")
		}
		bw.WriteString(csvField(e.Path))
		bw.WriteByte(',')
		bw.WriteString(csvField(e.Hash.String()))
		bw.WriteByte(',')
		bw.WriteString(sizeText(e.Size))
		bw.WriteString("\r\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write RECORD: %w", err)
	}
	return nil
}

func sizeText(n int64) string {
	if n < 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// csvField quotes like Python's csv.QUOTE_MINIMAL with the default dialect.
func csvField(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
