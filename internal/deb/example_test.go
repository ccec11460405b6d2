package deb_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/stage"
)

func ExampleWrite() {
	tree := stage.New()
	if err := tree.AddFile("/opt/hello/app.py", 0o644, []byte("print('hello')\n")); err != nil {
		log.Fatal(err)
	}
	pkg := deb.Package{
		Control: deb.Control{
			Package:      "hello",
			Version:      "1.0-1",
			Architecture: "all",
			Maintainer:   "Ops <ops@example.com>",
			Summary:      "greets the world",
		},
		Scripts: map[deb.Script]string{deb.Postinst: "#!/bin/sh\nset -e\n"},
		Tree:    tree,
	}
	var out bytes.Buffer
	opts := deb.Options{Compression: deb.Xz, MTime: time.Unix(1700000000, 0)}
	if err := deb.Write(context.Background(), &out, pkg, opts); err != nil {
		log.Fatal(err)
	}

	info, err := deb.Read(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(deb.FileName(pkg.Control))
	for _, f := range info.Fields {
		fmt.Printf("%s: %s\n", f.Name, f.Value)
	}
	for _, f := range info.Files {
		fmt.Printf("%-4v %04o %s %s\n", f.Kind, f.Mode, f.Owner, f.Path)
	}
	// Output:
	// hello_1.0-1_all.deb
	// Package: hello
	// Version: 1.0-1
	// Architecture: all
	// Maintainer: Ops <ops@example.com>
	// Installed-Size: 4
	// Description: greets the world
	// dir  0755 root /
	// dir  0755 root /opt
	// dir  0755 root /opt/hello
	// file 0644 root /opt/hello/app.py
}
