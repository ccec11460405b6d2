package rpm_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/stage"
)

func ExampleWrite() {
	tree := stage.New()
	if err := tree.AddFile("/opt/hello/bin/hello", 0o755, []byte("#!/bin/sh\necho hello\n")); err != nil {
		log.Fatal(err)
	}
	// Own the app directory; /opt, /opt/hello/bin and /etc stay implicit,
	// left to the packages that own them.
	if err := tree.AddDir("/opt/hello", 0o755); err != nil {
		log.Fatal(err)
	}
	if err := tree.Add(stage.Entry{Path: "/etc/hello.conf", Kind: stage.File, Mode: 0o644, Size: 3,
		Open: stage.Bytes([]byte("a=1")), Config: true}); err != nil {
		log.Fatal(err)
	}
	p := rpm.Package{
		Name: "hello", Version: "1.0", Release: "1.el9", Arch: "noarch",
		Summary: "Says hello", Description: "Says hello.", License: "MIT",
		BuildTime: time.Unix(1700000000, 0),
		Requires:  []rpm.Dependency{{Name: "python3", Flags: rpm.Greater | rpm.Equal, Version: "3.9"}},
		Tree:      tree,
	}
	var buf bytes.Buffer
	if err := rpm.Write(context.Background(), &buf, p, rpm.Options{Compression: rpm.Zstd}); err != nil {
		log.Fatal(err)
	}
	info, err := rpm.Read(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rpm.FileName(p))
	for _, f := range info.Files {
		fmt.Printf("%o %s config=%v\n", f.Mode, f.Name, f.Flags&rpm.FileConfig != 0)
	}
	fmt.Println(info.Requires[0])
	// Output:
	// hello-1.0-1.el9.noarch.rpm
	// 100644 /etc/hello.conf config=true
	// 40755 /opt/hello config=false
	// 100755 /opt/hello/bin/hello config=false
	// python3 >= 3.9
}
