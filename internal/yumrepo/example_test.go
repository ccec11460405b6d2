package yumrepo_test

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/yumrepo"
)

func ExampleRender() {
	pkg, err := yumrepo.ReadRPMFile("testdata/rpms/demo-1.2.3-4.noarch.rpm", yumrepo.ReadOptions{
		Location: "Packages/demo-1.2.3-4.noarch.rpm",
		FileTime: 1700000000,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	files, err := yumrepo.Render([]yumrepo.Package{pkg}, yumrepo.Options{Time: time.Unix(1700000000, 0)})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Data files are named by checksum; publish them before repomd.xml.
	for _, f := range files {
		fmt.Println(path.Dir(f.Path), strings.SplitN(path.Base(f.Path), "-", 2)[1:])
	}
	for _, d := range pkg.Requires {
		fmt.Println("requires", d)
	}
	// Output:
	// repodata [primary.xml.gz]
	// repodata [filelists.xml.gz]
	// repodata [other.xml.gz]
	// repodata []
	// requires /bin/sh
	// requires /bin/sh
	// requires bash
	// requires python3 >= 3.9
	// requires shadow-utils
}
