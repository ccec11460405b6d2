package repostore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// LeasePath is the object that serializes the publishers of an object
// store, beside the repository's settings.
const LeasePath = ".wharf/lock"

// ErrLeaseLost is returned by every write after the publisher's lease was
// taken over or could not be renewed before it expired.
var ErrLeaseLost = errors.New("publisher lease lost")

// leaseRecord is the content of the lease object.
type leaseRecord struct {
	Holder   string    `json:"holder"` // random, one per Lock
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Expires  time.Time `json:"expires"`
	Released bool      `json:"released,omitempty"`
}

func (r leaseRecord) who() string {
	return fmt.Sprintf("pid %d on %s", r.PID, r.Host)
}

// lease is a held lease: the renewer keeps it alive, and its loss cancels
// ctx, which every write of the store runs under.
type lease struct {
	mu      sync.Mutex
	rec     leaseRecord
	etag    string
	lost    error
	ctx     context.Context
	cancel  context.CancelFunc
	stop    chan struct{}
	stopped chan struct{}
}

func (l *lease) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil && time.Now().After(l.rec.Expires) {
		l.lost = fmt.Errorf("%w: it expired at %s without renewal", ErrLeaseLost, l.rec.Expires.Format(time.RFC3339))
		l.cancel()
	}
	return l.lost
}

// Lock takes the publisher lease: a conditional create of LeasePath
// (If-None-Match: *), which exactly one of several publishers on any
// machines wins. The lease names its holder and expires after
// S3Options.Lease unless renewed; the holder renews it in the background
// (If-Match its last ETag) every third of that, and once renewal fails its
// writes fail with ErrLeaseLost. A waiter takes over an expired or released
// lease with If-Match of the ETag it read, so a publisher that crashed
// blocks the next one for one lease at most. Expiry is compared with the
// local clock: the publishers' clocks must agree to well within a lease.
func (s *S3) Lock(ctx context.Context, timeout time.Duration, log io.Writer) (func() error, error) {
	host, _ := os.Hostname()
	var id [12]byte
	rand.Read(id[:])
	rec := leaseRecord{Holder: hex.EncodeToString(id[:]), Host: host, PID: os.Getpid()}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	said := false
	for {
		rec.Expires = time.Now().Add(s.opts.Lease).UTC()
		etag, err := s.putLease(ctx, rec, "", true)
		if err == nil {
			return s.hold(rec, etag), nil
		}
		if !errors.Is(err, errPrecondition) {
			return nil, err
		}
		cur, curETag, err := s.readLease(ctx)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errPrecondition) {
			continue // deleted or rewritten while read: look again
		}
		if err != nil {
			return nil, err
		}
		if cur.Released || time.Now().After(cur.Expires) {
			if !cur.Released && log != nil {
				fmt.Fprintf(log, "taking over the lease of %s in %s: it expired at %s\n", cur.who(), s, cur.Expires.Format(time.RFC3339))
			}
			rec.Expires = time.Now().Add(s.opts.Lease).UTC()
			etag, err := s.putLease(ctx, rec, curETag, false)
			if err == nil {
				return s.hold(rec, etag), nil
			}
			if !errors.Is(err, errPrecondition) {
				return nil, err
			}
			continue // another waiter was first
		}
		if !said && log != nil {
			fmt.Fprintf(log, "waiting for another publisher (%s) to release %s (its lease runs until %s)…\n", cur.who(), s, cur.Expires.Format(time.RFC3339))
			said = true
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %s still holds %s after %s", ErrLocked, cur.who(), s, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s: %w", s, ctx.Err())
		case <-time.After(min(250*time.Millisecond, s.opts.Lease/4)):
		}
	}
}

// hold starts renewing the lease just taken and returns its release.
func (s *S3) hold(rec leaseRecord, etag string) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	l := &lease{rec: rec, etag: etag, ctx: ctx, cancel: cancel, stop: make(chan struct{}), stopped: make(chan struct{})}
	s.mu.Lock()
	s.guard = l
	s.mu.Unlock()
	go s.renew(l)
	return func() error {
		close(l.stop)
		<-l.stopped
		s.mu.Lock()
		s.guard = nil
		s.mu.Unlock()
		defer cancel()
		if err := l.check(); err != nil {
			return err
		}
		l.mu.Lock()
		rec, etag := l.rec, l.etag
		l.mu.Unlock()
		rec.Released, rec.Expires = true, time.Now().UTC()
		rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer rcancel()
		if _, err := s.putLease(rctx, rec, etag, false); err != nil {
			return fmt.Errorf("release %s: %w", s, err)
		}
		return nil
	}
}

// renew extends the lease every third of its length until stopped; a
// lease another publisher took over, or one not renewed before it
// expired, is lost.
func (s *S3) renew(l *lease) {
	defer close(l.stopped)
	every := s.opts.Lease / 3
	for {
		select {
		case <-l.stop:
			return
		case <-time.After(every):
		}
		if l.check() != nil {
			return
		}
		l.mu.Lock()
		rec, etag := l.rec, l.etag
		l.mu.Unlock()
		rec.Expires = time.Now().Add(s.opts.Lease).UTC()
		ctx, cancel := context.WithTimeout(l.ctx, every)
		next, err := s.putLease(ctx, rec, etag, false)
		cancel()
		l.mu.Lock()
		switch {
		case err == nil:
			l.rec, l.etag = rec, next
		case errors.Is(err, errPrecondition):
			l.lost = fmt.Errorf("%w: another publisher took it over", ErrLeaseLost)
			l.cancel()
		}
		// Any other error: try again at the next tick, until it expires.
		l.mu.Unlock()
	}
}

// writable refuses a write once the lease this store holds is lost.
func (s *S3) writable() error {
	s.mu.Lock()
	g := s.guard
	s.mu.Unlock()
	if g != nil {
		if err := g.check(); err != nil {
			return err
		}
	}
	return nil
}

// writeCtx is ctx, also cancelled when the lease is lost, so that a write
// in flight stops too.
func (s *S3) writeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	s.mu.Lock()
	g := s.guard
	s.mu.Unlock()
	c, cancel := context.WithCancel(ctx)
	if g == nil {
		return c, cancel
	}
	stop := context.AfterFunc(g.ctx, cancel)
	return c, func() { stop(); cancel() }
}

// putLease writes rec to LeasePath: only if there is none (create), or
// only over the object whose ETag is etag.
func (s *S3) putLease(ctx context.Context, rec leaseRecord, etag string, create bool) (string, error) {
	key, err := s.key(LeasePath)
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	opts := minio.PutObjectOptions{CacheControl: CacheControl(LeasePath), ContentType: "application/json"}
	if create {
		opts.SetMatchETagExcept("*")
	} else {
		opts.SetMatchETag(etag)
	}
	info, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return "", fmt.Errorf("lease %s: %w", s, s.wrap(err))
	}
	return info.ETag, nil
}

// readLease reads the lease and its ETag; an unreadable record counts as
// expired, so that garbage never blocks publishing.
func (s *S3) readLease(ctx context.Context) (leaseRecord, string, error) {
	key, err := s.key(LeasePath)
	if err != nil {
		return leaseRecord{}, "", err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return leaseRecord{}, "", fmt.Errorf("lease %s: %w", s, s.wrap(err))
	}
	defer obj.Close()
	// Read first, then Stat: the ETag is then the one of the body read.
	// (Stat first sends a request of its own, and the read after it asks
	// If-Match that ETag: a lease renewed in between fails it with 412.)
	data, err := io.ReadAll(io.LimitReader(obj, 64<<10))
	if err != nil {
		return leaseRecord{}, "", fmt.Errorf("lease %s: %w", s, s.wrap(err))
	}
	info, err := obj.Stat()
	if err != nil {
		return leaseRecord{}, "", fmt.Errorf("lease %s: %w", s, s.wrap(err))
	}
	var rec leaseRecord
	if json.Unmarshal(data, &rec) != nil {
		rec = leaseRecord{Host: "unknown", Expires: time.Time{}}
	}
	return rec, info.ETag, nil
}
