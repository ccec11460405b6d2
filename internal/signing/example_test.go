package signing_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/wharf-pkg/wharf/internal/signing"
)

// Sign an apt Release file as InRelease with the key and passphrase from
// the environment (here: a fixture file), at a fixed time so the output is
// reproducible.
func ExampleLoadKey() {
	key, err := signing.KeyFrom(os.Getenv, os.ReadFile, "testdata/keys/wharf-ed25519.asc")
	if err != nil {
		log.Fatal(err)
	}
	pass, err := signing.PassphraseFrom(os.Getenv, os.ReadFile)
	if err != nil {
		log.Fatal(err)
	}
	s, err := signing.LoadKey(key, pass)
	if err != nil {
		log.Fatal(err)
	}
	s.Now = func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }
	inRelease, err := s.ClearSign([]byte("Origin: wharf\nSuite: stable\n"))
	if err != nil {
		log.Fatal(err)
	}
	header, legacy := s.RPMTags()
	fmt.Printf("%s\nrpm tags: %d %d\n", inRelease, header, legacy)
	// Output:
	// -----BEGIN PGP SIGNED MESSAGE-----
	// Hash: SHA256
	//
	// Origin: wharf
	// Suite: stable
	//
	// -----BEGIN PGP SIGNATURE-----
	//
	// wnUEARYIACcFAmg7mAAJEJBOHBjFJ6zLFiEEK6cLeI6x7fLXTlVWkE4cGMUnrMsA
	// APliAQC2dObQkVHPkcEI9ayusGO6g80DKtptrAxLRwvzmDoEHwEA6c9gjSwmkciA
	// 3rubFbWwmMb+9a6woy8dXEIGAbnsAAk=
	// =fflM
	// -----END PGP SIGNATURE-----
	//
	// rpm tags: 267 1005
}
