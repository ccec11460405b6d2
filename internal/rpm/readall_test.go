package rpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/signing"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// TestReadAll checks ReadAll's offsets and digests against the golden rpms
// cut by hand, unsigned and signed, and the archive size against rpm.
func TestReadAll(t *testing.T) {
	goldens, _ := filepath.Glob("testdata/golden/*.rpm")
	if len(goldens) == 0 {
		t.Fatal("no golden rpms in testdata/golden")
	}
	s := signKey(t, signing.RSA4096)
	for _, g := range goldens {
		t.Run(filepath.Base(g), func(t *testing.T) {
			in, err := os.ReadFile(g)
			if err != nil {
				t.Fatal(err)
			}
			var signed bytes.Buffer
			if err := Sign(&signed, bytes.NewReader(in), s); err != nil {
				t.Fatal(err)
			}
			for _, pkg := range [][]byte{in, signed.Bytes()} {
				f, err := ReadAll(bytes.NewReader(pkg))
				if err != nil {
					t.Fatal(err)
				}
				sigLen := 16 + 16*int(be32(pkg[96+8:])) + int(be32(pkg[96+12:]))
				start := 96 + sigLen + (8-sigLen%8)%8
				end := start + 16 + 16*int(be32(pkg[start+8:])) + int(be32(pkg[start+12:]))
				whole := sha256.Sum256(pkg)
				content := sha256.Sum256(pkg[start:])
				if f.MainHeaderStart != int64(start) || f.MainHeaderEnd != int64(end) {
					t.Errorf("main header at %d..%d, want %d..%d", f.MainHeaderStart, f.MainHeaderEnd, start, end)
				}
				if !bytes.Equal(f.MainHeader, pkg[start:end]) {
					t.Error("MainHeader is not the file's bytes")
				}
				if f.FileSize != int64(len(pkg)) || f.SHA256 != hex.EncodeToString(whole[:]) || f.ContentSHA256 != hex.EncodeToString(content[:]) {
					t.Errorf("size %d sha256 %s content %s, want %d %x %x", f.FileSize, f.SHA256, f.ContentSHA256, len(pkg), whole, content)
				}
				if d, err := ContentDigest(bytes.NewReader(pkg)); err != nil || d != f.ContentSHA256 {
					t.Errorf("ContentDigest %s (%v), ReadAll %s", d, err, f.ContentSHA256)
				}
				wantSigs := 0
				if len(pkg) != len(in) {
					wantSigs = 1
					if len(f.Signatures[268]) == 0 {
						t.Error("the RSA signature (tag 268) is missing")
					}
				}
				if len(f.Signatures) != wantSigs {
					t.Errorf("%d signatures, want %d", len(f.Signatures), wantSigs)
				}
			}
			bin := testenv.Tool(t, "rpm")
			p := filepath.Join(t.TempDir(), "p.rpm")
			if err := os.WriteFile(p, in, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := ReadAll(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			out := run(t, bin, "-qp", "--nosignature", "--nodigest", "--queryformat", "%{archivesize}", p)
			if want, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64); err != nil || f.ArchiveSize != want {
				t.Errorf("archive size %d, rpm says %q", f.ArchiveSize, out)
			}
		})
	}
}

// TestTallyChunks writes a golden rpm through a Tally in pieces of every
// awkward size: the digests and the header offset must not depend on them.
func TestTallyChunks(t *testing.T) {
	in, err := os.ReadFile("testdata/golden/hello.gzip.rpm")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadAll(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{1, 7, 96, 111, 4096, len(in)} {
		tally := NewTally()
		for b := in; len(b) > 0; b = b[min(chunk, len(b)):] {
			tally.Write(b[:min(chunk, len(b))])
		}
		start, err := tally.MainHeaderStart()
		if err != nil || start != want.MainHeaderStart || tally.Size() != want.FileSize ||
			tally.SHA256() != want.SHA256 || tally.ContentSHA256() != want.ContentSHA256 {
			t.Errorf("chunks of %d: start %d (%v) size %d, want %d size %d; digests differ: %v",
				chunk, start, err, tally.Size(), want.MainHeaderStart, want.FileSize, tally.ContentSHA256() != want.ContentSHA256)
		}
	}
	if _, err := NewTally().MainHeaderStart(); !errors.Is(err, ErrNotRPM) {
		t.Errorf("empty tally: %v, want ErrNotRPM", err)
	}
}

// TestHeaderTypes builds headers by hand to cover every tag type the
// reader decodes, including types rpmbuild never uses for our tags, and
// entries it must refuse.
func TestHeaderTypes(t *testing.T) {
	type ent struct {
		tag, typ, count uint32
		data            []byte
	}
	encode := func(ents []ent) []byte {
		var index, store []byte
		for _, e := range ents {
			for _, v := range []uint32{e.tag, e.typ, uint32(len(store)), e.count} {
				index = binary.BigEndian.AppendUint32(index, v)
			}
			store = append(store, e.data...)
		}
		raw := append([]byte{}, headerMagic[:]...)
		raw = binary.BigEndian.AppendUint32(raw, uint32(len(ents)))
		raw = binary.BigEndian.AppendUint32(raw, uint32(len(store)))
		return append(append(raw, index...), store...)
	}
	be16 := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, 0o40755), 0o100644)
	h, err := readHeader(bytes.NewReader(encode([]ent{
		{1, typeInt8, 2, []byte{7, 200}},
		{2, typeInt16, 2, be16},
		{3, typeInt32, 1, binary.BigEndian.AppendUint32(nil, 0xfffffffe)},
		{4, typeInt64, 1, binary.BigEndian.AppendUint64(nil, 1<<40)},
		{5, typeString, 1, []byte("hello\x00")},
		{6, typeStringArray, 2, []byte("a\x00bc\x00")},
		{7, typeI18NString, 2, []byte("C text\x00de Text\x00")},
		{8, typeBin, 3, []byte{1, 2, 3}},
	})))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tag  uint32
		want []uint64
	}{{1, []uint64{7, 200}}, {2, []uint64{0o40755, 0o100644}}, {3, []uint64{0xfffffffe}}, {4, []uint64{1 << 40}}, {5, nil}, {8, nil}, {99, nil}} {
		if got := h.ints(c.tag); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ints(%d) = %v, want %v", c.tag, got, c.want)
		}
	}
	for _, c := range []struct {
		tag  uint32
		want []string
	}{{5, []string{"hello"}}, {6, []string{"a", "bc"}}, {7, []string{"C text", "de Text"}}, {3, nil}, {99, nil}} {
		if got := h.strings(c.tag); !reflect.DeepEqual(got, c.want) {
			t.Errorf("strings(%d) = %q, want %q", c.tag, got, c.want)
		}
	}
	if s := h.string(7); s != "C text" {
		t.Errorf("string(I18N) = %q, want the C text", s)
	}
	for name, bad := range map[string]ent{
		"unterminated string": {9, typeString, 1, []byte("unterminated")},
		"values overrun":      {10, typeInt64, 9, binary.BigEndian.AppendUint64(nil, 1)},
		"unknown type":        {11, 42, 1, []byte{0}},
		"empty count":         {12, typeInt32, 0, nil},
	} {
		if _, err := readHeader(bytes.NewReader(encode([]ent{bad}))); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v, want ErrFormat", name, err)
		}
	}
}
