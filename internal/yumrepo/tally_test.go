package yumrepo

import (
	"bytes"
	"io"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/signing"
)

// TestTallyDescribesSignedCopy: an rpm signed on its way through a Tally
// is described as reading the signed file gives, and its content digest
// is the original's.
func TestTallyDescribesSignedCopy(t *testing.T) {
	key, err := signing.GenerateKey("Tally", "tally@example.com", signing.Ed25519, testTime.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range testdataRPMs(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		opts := ReadOptions{Location: "Packages/x.rpm", FileTime: testTime.Unix()}
		orig, info, err := ReadRPMInfo(bytes.NewReader(data), opts)
		if err != nil {
			t.Fatal(err)
		}
		same := NewTally()
		same.Write(data[:50]) // in pieces that split the headers
		same.Write(data[50:700])
		same.Write(data[700:])
		if got, err := same.Describe(orig); err != nil || !reflect.DeepEqual(got, orig) {
			t.Errorf("%s: Describe of the file itself differs (%v)", file, err)
		}
		if same.ContentSHA256() != info.ContentSHA256 {
			t.Errorf("%s: content digest %s, want %s", file, same.ContentSHA256(), info.ContentSHA256)
		}

		var signed bytes.Buffer
		tally := NewTally()
		if err := rpm.Sign(io.MultiWriter(&signed, tally), bytes.NewReader(data), key.Signer()); err != nil {
			t.Fatal(err)
		}
		got, err := tally.Describe(orig)
		if err != nil {
			t.Fatal(err)
		}
		want, winfo, err := ReadRPMInfo(bytes.NewReader(signed.Bytes()), opts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Describe of the signed copy:\n%+v\nwant\n%+v", file, got, want)
		}
		if tally.ContentSHA256() != info.ContentSHA256 || winfo.ContentSHA256 != info.ContentSHA256 {
			t.Errorf("%s: signing changed the content digest", file)
		}
		if len(winfo.Signatures) != 1 || winfo.Signatures[267] == nil {
			t.Errorf("%s: signatures of the copy: %v", file, winfo.Signatures)
		}
	}
}
