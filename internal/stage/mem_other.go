//go:build !unix

package stage

func bigBuf(n int) []byte { return make([]byte, n) }

func freeBigBuf([]byte) {}
