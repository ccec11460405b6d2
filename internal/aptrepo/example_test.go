package aptrepo_test

import (
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/aptrepo"
)

func ExampleRender() {
	// Normally PackageStanza(info, path, size, sums) of a real .deb.
	stanza := aptrepo.Stanza{
		{Name: "Package", Value: "hello"},
		{Name: "Version", Value: "1.0-1"},
		{Name: "Architecture", Value: "all"},
		{Name: "Filename", Value: aptrepo.PoolPath("main", "hello", "hello_1.0-1_all.deb")},
		{Name: "Size", Value: "1234"},
		{Name: "SHA256", Value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{Name: "Description", Value: "greets the world"},
	}
	repo := &aptrepo.Repo{
		Origin: "example", Suite: "stable", Architectures: []string{"amd64"},
		Date: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	if _, err := repo.Add("main", stanza); err != nil {
		log.Fatal(err)
	}
	files, err := aptrepo.Render(repo, nil) // a real publish passes a Signer
	if err != nil {
		log.Fatal(err)
	}
	byHash := 0
	for _, f := range files {
		if strings.Contains(f.Path, "/by-hash/") {
			byHash++
			continue
		}
		fmt.Println(f.Path)
	}
	fmt.Println("by-hash copies:", byHash)
	// Output:
	// dists/stable/main/binary-all/Packages
	// dists/stable/main/binary-all/Packages.gz
	// dists/stable/main/binary-amd64/Packages
	// dists/stable/main/binary-amd64/Packages.gz
	// dists/stable/Release
	// by-hash copies: 4
}
