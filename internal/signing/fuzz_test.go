package signing

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoadKey: arbitrary key input never panics; whatever loads can sign.
func FuzzLoadKey(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "keys", "*.asc"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seed keys in testdata/keys: %v", err)
	}
	pass := fixturePassphrase(f)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, pass)
		f.Add(b, []byte(nil))
	}
	f.Fuzz(func(t *testing.T, key, passphrase []byte) {
		s, err := LoadKey(key, passphrase)
		if err != nil {
			if s != nil {
				t.Fatal("LoadKey returned a Signer with an error")
			}
			// An error may quote the key's own text (its armor type), so a
			// passphrase that is also part of the key proves nothing.
			if len(passphrase) > 3 && !bytes.Contains(key, passphrase) && bytes.Contains([]byte(err.Error()), passphrase) {
				t.Fatalf("error %q leaks the passphrase", err)
			}
			return
		}
		if len(s.Fingerprint()) < 40 {
			t.Fatalf("fingerprint %q too short", s.Fingerprint())
		}
		s.Now = func() time.Time { return time.Now().Add(time.Minute) }
		if _, err := s.DetachSignBinary([]byte("fuzz")); err != nil {
			t.Fatalf("loaded key cannot sign: %v", err)
		}
	})
}
