//go:build unix

package stage

import "syscall"

// bigBuf returns n bytes outside the Go heap: read buffers are
// long-lived and large, and on the heap they would double in the garbage
// collector's eyes (GOGC lets the heap grow by what is live). free gives
// them back; nothing may touch b after.
func bigBuf(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n)
	}
	return b
}

func freeBigBuf(b []byte) {
	b = b[:cap(b)]
	// A heap fallback is not a mapping: munmap refuses it (EINVAL), and the
	// garbage collector has it.
	_ = syscall.Munmap(b)
}
