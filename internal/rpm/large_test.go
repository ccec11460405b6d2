package rpm

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"

	"github.com/klauspost/compress/zstd"

	"github.com/wharf-pkg/wharf/internal/archive/cpio"
	"github.com/wharf-pkg/wharf/internal/stage"
)

const bigSize = 4<<30 + 3 // past newc's 32-bit size field

func largeCase(t testing.TB) testCase {
	tree := stage.New()
	for _, e := range []stage.Entry{
		{Path: "/opt/big/data.bin", Kind: stage.File, Mode: 0o644, Size: bigSize, Open: patternOpener(bigSize)},
		{Path: "/opt/big/small.txt", Kind: stage.File, Mode: 0o644, Size: 6, Open: stage.Bytes([]byte("small\n"))},
		{Path: "/opt/big/link", Kind: stage.Symlink, Mode: 0o777, Target: "small.txt"},
		{Path: "/opt/big", Kind: stage.Dir, Mode: 0o755},
	} {
		if err := tree.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	return testCase{name: "large", pkg: Package{
		Name: "big", Version: "1", Release: "1", Arch: "x86_64", Summary: "Large file",
		Description: "A file past 4 GiB.", License: "MIT", BuildTime: time.Unix(1700000000, 0), Tree: tree,
	}}
}

// TestLargeFile writes a package holding a file past 4 GiB: 64-bit size
// tags, rpmlib(LargeFiles) and the stripped cpio payload, read back by our
// reader and installed and verified by rpm.
func TestLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 4 GiB; skipped in -short")
	}
	tc := largeCase(t)
	dir := t.TempDir()
	p := filepath.Join(dir, FileName(tc.pkg))
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(context.Background(), f, tc.pkg, Options{Compression: Zstd, TempDir: dir}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	br := bufio.NewReader(r)
	_, sig, h, err := readHeaders(br)
	if err != nil {
		t.Fatal(err)
	}
	info, err := infoOf(sig, h)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != bigSize+6+9 {
		t.Errorf("installed size %d, want %d", info.Size, bigSize+6+9)
	}
	if _, ok := h.get(tagLongFileSizes); !ok {
		t.Error("no LONGFILESIZES tag")
	}
	if _, ok := h.get(tagFileSizes); ok {
		t.Error("FILESIZES tag next to LONGFILESIZES")
	}
	found := false
	for _, d := range info.Requires {
		found = found || d.Name == "rpmlib(LargeFiles)"
	}
	if !found {
		t.Errorf("requires %v lack rpmlib(LargeFiles)", info.Requires)
	}

	// The payload: stripped entries in header order, content matching the digests.
	zr, err := zstd.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	sizes := make([]int64, len(info.Files))
	for i, fi := range info.Files {
		sizes[i] = fi.Size
	}
	cr := cpio.NewStrippedReader(zr, sizes)
	for i := range info.Files {
		hdr, err := cr.Next()
		if err != nil {
			t.Fatalf("payload entry %d: %v", i, err)
		}
		if hdr.Index != i {
			t.Errorf("payload entry %d has index %d", i, hdr.Index)
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, cr); err != nil {
			t.Fatal(err)
		}
		if fi := info.Files[i]; fi.Digest != "" && hex.EncodeToString(sum.Sum(nil)) != fi.Digest {
			t.Errorf("%s: payload content does not match the header digest", fi.Name)
		}
	}
	if _, err := cr.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last entry: %v, want io.EOF", err)
	}

	rpmBin := testenv.Tool(t, "rpm")
	if out := run(t, rpmBin, "-K", "--nosignature", p); !strings.HasSuffix(out, ": digests OK\n") {
		t.Errorf("rpm -K: %s", out)
	}
	if out := run(t, rpmBin, "-qp", "--qf", "%{LONGSIZE} [%{LONGFILESIZES} ]", p); out != "4294967314 0 4294967299 9 6 " {
		t.Errorf("rpm sizes: %q", out)
	}
	root := t.TempDir()
	db := []string{"--root", root, "--dbpath", "/var/lib/rpm"}
	run(t, rpmBin, append(db, "-i", "--nodeps", "--noscripts", p)...)
	run(t, rpmBin, append(db, "-V", "--nodeps", "big")...)
	if fi, err := os.Stat(filepath.Join(root, "opt/big/data.bin")); err != nil || fi.Size() != bigSize {
		t.Errorf("installed data.bin: %v, %v", fi, err)
	}
}
