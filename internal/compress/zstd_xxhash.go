package compress

import (
	"encoding/binary"
	"math/bits"
)

// xxh64 is XXH64 with seed 0 (xxHash specification, "XXH64 algorithm"):
// the content checksum of a zstd frame is its low 32 bits. klauspost's
// own copy is internal to its module.
type xxh64 struct {
	v     [4]uint64
	total uint64
	mem   [32]byte
	n     int // bytes in mem
}

const (
	xxPrime1 uint64 = 11400714785074694791
	xxPrime2 uint64 = 14029467366897019727
	xxPrime3 uint64 = 1609587929392839161
	xxPrime4 uint64 = 9650029242287828579
	xxPrime5 uint64 = 2870177450012600261
)

func newXXH64() xxh64 {
	p1, p2 := xxPrime1, xxPrime2 // variables: the sums wrap
	return xxh64{v: [4]uint64{p1 + p2, p2, 0, -p1}}
}

func xxRound(acc, input uint64) uint64 {
	return bits.RotateLeft64(acc+input*xxPrime2, 31) * xxPrime1
}

func xxMerge(acc, val uint64) uint64 {
	return (acc^xxRound(0, val))*xxPrime1 + xxPrime4
}

func (x *xxh64) Write(b []byte) {
	x.total += uint64(len(b))
	if x.n > 0 {
		k := copy(x.mem[x.n:], b)
		x.n += k
		b = b[k:]
		if x.n < 32 {
			return
		}
		x.stripes(x.mem[:])
		x.n = 0
	}
	if full := len(b) &^ 31; full > 0 {
		x.stripes(b[:full])
		b = b[full:]
	}
	x.n = copy(x.mem[:], b)
}

// stripes takes a multiple of 32 bytes.
func (x *xxh64) stripes(b []byte) {
	v1, v2, v3, v4 := x.v[0], x.v[1], x.v[2], x.v[3]
	for ; len(b) >= 32; b = b[32:] {
		v1 = xxRound(v1, binary.LittleEndian.Uint64(b[0:8]))
		v2 = xxRound(v2, binary.LittleEndian.Uint64(b[8:16]))
		v3 = xxRound(v3, binary.LittleEndian.Uint64(b[16:24]))
		v4 = xxRound(v4, binary.LittleEndian.Uint64(b[24:32]))
	}
	x.v = [4]uint64{v1, v2, v3, v4}
}

func (x *xxh64) Sum64() uint64 {
	var h uint64
	if x.total >= 32 {
		v1, v2, v3, v4 := x.v[0], x.v[1], x.v[2], x.v[3]
		h = bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) + bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18)
		h = xxMerge(h, v1)
		h = xxMerge(h, v2)
		h = xxMerge(h, v3)
		h = xxMerge(h, v4)
	} else {
		h = x.v[2] + xxPrime5
	}
	h += x.total
	b := x.mem[:x.n]
	for ; len(b) >= 8; b = b[8:] {
		h ^= xxRound(0, binary.LittleEndian.Uint64(b))
		h = bits.RotateLeft64(h, 27)*xxPrime1 + xxPrime4
	}
	if len(b) >= 4 {
		h ^= uint64(binary.LittleEndian.Uint32(b)) * xxPrime1
		h = bits.RotateLeft64(h, 23)*xxPrime2 + xxPrime3
		b = b[4:]
	}
	for _, c := range b {
		h ^= uint64(c) * xxPrime5
		h = bits.RotateLeft64(h, 11) * xxPrime1
	}
	h ^= h >> 33
	h *= xxPrime2
	h ^= h >> 29
	h *= xxPrime3
	h ^= h >> 32
	return h
}
