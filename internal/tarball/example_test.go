package tarball_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/wharf-pkg/wharf/internal/maintscript"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/tarball"
)

func ExampleWrite() {
	tree := stage.New()
	if err := tree.AddFile("/opt/hello/app.py", 0o644, []byte("print('hello')\n")); err != nil {
		log.Fatal(err)
	}
	install, uninstall, err := maintscript.Shell(pkgmodel.Intent{Package: "hello", Prefix: "/opt/hello"}, "1.0", tree)
	if err != nil {
		log.Fatal(err)
	}
	pkg := tarball.Package{Name: "hello", Version: "1.0", Target: "debian-12", Tree: tree, Install: install, Uninstall: uninstall}
	var out bytes.Buffer
	opts := tarball.Options{Compression: tarball.Gzip, MTime: time.Unix(1700000000, 0)}
	if err := tarball.Write(context.Background(), &out, pkg, opts); err != nil {
		log.Fatal(err)
	}

	fmt.Println(tarball.FileName(pkg.Name, pkg.Version, pkg.Target, opts.Compression))
	zr, err := gzip.NewReader(&out)
	if err != nil {
		log.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%04o %s/%s %s\n", h.Mode, h.Uname, h.Gname, h.Name)
	}
	// Output:
	// hello-1.0-debian-12.tar.gz
	// 0755 root/root hello-1.0/
	// 0755 root/root hello-1.0/install.sh
	// 0755 root/root hello-1.0/uninstall.sh
	// 0644 root/root hello-1.0/README
	// 0755 root/root hello-1.0/root/
	// 0755 root/root hello-1.0/root/opt/
	// 0755 root/root hello-1.0/root/opt/hello/
	// 0644 root/root hello-1.0/root/opt/hello/app.py
}
