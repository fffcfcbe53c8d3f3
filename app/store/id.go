package store

import (
	"crypto/rand"
	"sync"
	"time"
)

// NewID returns a new run id: 26 characters of Crockford base32 holding a
// 48-bit millisecond timestamp and 80 random bits, the ULID layout. Ids
// sort as text in the order they were made, so "newest first" is an
// ORDER BY id; the random part makes them unique across replicas without
// a sequence, which SQLite and Postgres would each spell differently.
//
// Within one process ids are strictly increasing even within a
// millisecond or when the clock steps back: the random part of the last
// id is incremented instead of redrawn.
func NewID() string {
	idGen.mu.Lock()
	ms := uint64(time.Now().UnixMilli())
	if ms <= idGen.ms {
		ms = idGen.ms
		for i := len(idGen.rand) - 1; i >= 0; i-- {
			idGen.rand[i]++
			if idGen.rand[i] != 0 {
				break
			}
		}
	} else {
		idGen.ms = ms
		_, _ = rand.Read(idGen.rand[:])
	}
	r := idGen.rand
	idGen.mu.Unlock()

	// 128 bits as hi:lo; the 26 characters take 130, the top two zero.
	hi := ms<<16 | uint64(r[0])<<8 | uint64(r[1])
	var lo uint64
	for _, b := range r[2:] {
		lo = lo<<8 | uint64(b)
	}
	var out [26]byte
	for i := range out {
		shift := uint(125 - 5*i)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift == 0:
			v = lo
		default:
			v = hi<<(64-shift) | lo>>shift
		}
		out[i] = crockford[v&31]
	}
	return string(out[:])
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var idGen struct {
	mu   sync.Mutex
	ms   uint64
	rand [10]byte
}
