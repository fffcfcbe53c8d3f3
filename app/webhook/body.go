package webhook

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

var (
	errTooLarge = errors.New("body over the webhook cap")
	errBusy     = errors.New("too many webhook bytes in flight")
)

// byteBudget counts bytes held across concurrent requests; taking never
// waits, so a flood is refused rather than queued.
type byteBudget struct {
	mu        sync.Mutex
	max, used int64
}

func newByteBudget(max int64) *byteBudget { return &byteBudget{max: max} }

// take reserves n bytes, or reports that the budget would be exceeded.
func (b *byteBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) give(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

func (b *byteBudget) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// readChunk is how much of a body of unknown length is reserved and read
// at a time.
const readChunk = 64 << 10

// readBody reads a delivery's body within the caps into chunks, and
// returns them with the bytes it took from the in-flight budget, which
// the caller gives back, as it gives the chunks back to the pool. A
// declared length over the cap is refused before any byte is read. Bytes
// are reserved chunk by chunk as they arrive, whether the length is
// declared or not: a sender that announces 25 MB and then stalls holds
// one chunk of the budget, not 25 MB, so a few idle connections cannot
// keep GitHub's deliveries out. The chunks stay apart until the
// signature is checked (validSignature reads them in turn), so an
// unauthenticated body is never copied, and pooled chunks mean a flood
// of them reuses the same memory instead of leaving garbage behind.
func (h *Handler) readBody(r *http.Request) (chunks [][]byte, taken int64, err error) {
	limit := int64(maxWebhookBody)
	if n := r.ContentLength; n >= 0 {
		if n > maxWebhookBody {
			return nil, 0, errTooLarge
		}
		limit = n
	}
	var size int64
	for {
		if !h.inFlight.take(readChunk) {
			return chunks, taken, errBusy
		}
		taken += readChunk
		chunk := h.chunks.get()
		n, err := fill(r.Body, chunk)
		size += int64(n)
		chunks = append(chunks, chunk[:n])
		switch {
		case size > limit:
			return chunks, taken, errTooLarge
		case errors.Is(err, io.EOF):
			return chunks, taken, nil
		case err != nil:
			return chunks, taken, fmt.Errorf("read body: %w", err)
		}
	}
}

// chunkPool recycles the read buffers of webhook bodies.
type chunkPool struct{ p sync.Pool }

func (c *chunkPool) get() []byte {
	if b, ok := c.p.Get().(*[]byte); ok {
		return (*b)[:readChunk]
	}
	return make([]byte, readChunk)
}

// put takes back chunks from readBody; none may be used afterwards.
func (c *chunkPool) put(chunks [][]byte) {
	for _, b := range chunks {
		b = b[:cap(b)]
		c.p.Put(&b)
	}
}

// fill reads until buf is full or r fails; io.EOF is returned as is, so
// the end of the body is told apart from a body cut short.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
