//go:build !unix

package compress

func bigBuf(n int) []byte { return make([]byte, n) }

func freeBigBuf([]byte) {}
