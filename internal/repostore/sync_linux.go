package repostore

import (
	"os"
	"runtime"
	"syscall"
)

// syncfsNumbers are syncfs(2)'s system call numbers (golang.org/x/sys/unix
// zsysnum_linux_*.go); package syscall lacks most of them.
var syncfsNumbers = map[string]uintptr{
	"386": 344, "amd64": 306, "arm": 373, "arm64": 267, "loong64": 267,
	"ppc64": 348, "ppc64le": 348, "riscv64": 267, "s390x": 338,
}

// syncFS flushes the file system holding f: syncfs(2), or sync(2) on an
// architecture not listed.
func syncFS(f *os.File) error {
	nr, ok := syncfsNumbers[runtime.GOARCH]
	if !ok {
		syscall.Sync()
		return nil
	}
	if _, _, errno := syscall.Syscall(nr, f.Fd(), 0, 0); errno != 0 {
		return errno
	}
	return nil
}
