package simpleindex

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/netauth"
)

// Defaults of a zero Fetcher and Retry.
const (
	DefaultStallTimeout  = 30 * time.Second
	DefaultAttempts      = 4
	DefaultBaseDelay     = 500 * time.Millisecond
	DefaultMaxDelay      = 10 * time.Second
	DefaultMaxRetryAfter = 60 * time.Second
	maxRedirects         = 10
)

// Sentinels callers branch on.
var (
	// ErrOffline marks a request refused because the network is off.
	ErrOffline = errors.New("offline")
	// ErrStalled marks an attempt that received nothing for the stall timeout.
	ErrStalled = errors.New("stalled")

	errRedirects = fmt.Errorf("stopped after %d redirects", maxRedirects)
)

// Retry bounds the attempts of one request. The zero value means the
// defaults above.
type Retry struct {
	Attempts      int           // tries in all; 1 disables retries
	BaseDelay     time.Duration // wait before the 2nd try, doubled for each next one
	MaxDelay      time.Duration // cap of the doubled wait
	MaxRetryAfter time.Duration // cap of a server's Retry-After
}

// Fetcher performs the http(s) GETs of index pages, metadata files and
// downloads. It sends basic-auth credentials to the host they belong to
// (also after a redirect, never to another host), retries transient faults
// (5xx but 501/505, 408, 429, connection errors, stalls and truncated
// bodies) with exponential backoff and jitter, honouring Retry-After up to
// a cap, and gives up on an attempt that receives no byte for StallTimeout.
// URLs in its errors and logs never show userinfo. A Fetcher is safe for
// concurrent use; do not copy it after first use.
type Fetcher struct {
	Client *http.Client // required for http(s)
	// Auth finds credentials; nil means only those in a requested URL's
	// userinfo, remembered for that host and port.
	Auth         *netauth.Keyring
	Retry        Retry
	StallTimeout time.Duration // 0 means DefaultStallTimeout
	// Offline refuses every request with ErrOffline, before any dial.
	Offline bool
	// Sleep waits between attempts; nil means a timer that ctx cancels.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now dates a Retry-After given as an HTTP date; nil means time.Now.
	Now func() time.Time
	// Jitter returns a number in [0, 1) to spread retries; nil means
	// math/rand/v2.
	Jitter func() float64
	Log    func(format string, args ...any) // retries; nil for none

	own netauth.Keyring // URL credentials when Auth is nil
}

// StatusError is an HTTP response other than 200 OK.
type StatusError struct {
	StatusCode int
	Status     string
	Hint       string // what to do about it, "" when nothing to say
}

func (e *StatusError) Error() string {
	if e.Hint != "" {
		return e.Status + " (" + e.Hint + ")"
	}
	return e.Status
}

// FetchError is the final failure of a GET: the URL (userinfo redacted),
// the attempts made and the last failure.
type FetchError struct {
	URL      string
	Attempts int
	Err      error
}

func (e *FetchError) Error() string {
	if e.Attempts > 1 {
		return fmt.Sprintf("get %s: giving up after %d attempts; last: %v", e.URL, e.Attempts, e.Err)
	}
	return fmt.Sprintf("get %s: %v", e.URL, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// IsNotFound reports a 404 or 410 answer.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.StatusCode == http.StatusNotFound || se.StatusCode == http.StatusGone)
}

func (f *Fetcher) keyring() *netauth.Keyring {
	if f.Auth != nil {
		return f.Auth
	}
	return &f.own
}

// Get fetches rawURL (http or https) with accept as its Accept header ("" for
// none) and passes the 200 response to read; resp.Request.URL is the final
// URL, without userinfo. When the body breaks off while read consumes it
// (reset, stall, fewer bytes than Content-Length), the whole GET is retried,
// so read must start over cleanly on each call; any other error of read
// ends the GET and is returned wrapped in a *FetchError.
func (f *Fetcher) Get(ctx context.Context, rawURL, accept string, read func(resp *http.Response) error) error {
	shown := netauth.Redact(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return &FetchError{URL: shown, Attempts: 0, Err: errors.New("invalid URL")}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &FetchError{URL: shown, Err: fmt.Errorf("unsupported URL scheme %q", u.Scheme)}
	}
	if f.Offline {
		return &FetchError{URL: shown, Err: fmt.Errorf("%w: network access is off", ErrOffline)}
	}
	if f.Client == nil {
		return &FetchError{URL: shown, Err: errors.New("no HTTP client configured")}
	}
	kr := f.keyring()
	kr.AddURL(u)
	clean := *u
	clean.User = nil
	attempts := f.Retry.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	for n := 1; ; n++ {
		retry, wait, err := f.attempt(ctx, &clean, accept, kr, read)
		if err == nil {
			return nil
		}
		if !retry || n >= attempts || ctx.Err() != nil {
			return &FetchError{URL: shown, Attempts: n, Err: err}
		}
		d := f.backoff(n, wait)
		if f.Log != nil {
			f.Log("retrying %s in %v (attempt %d of %d failed: %v)", shown, d.Round(time.Millisecond), n, attempts, err)
		}
		if err := f.sleep(ctx, d); err != nil {
			return &FetchError{URL: shown, Attempts: n, Err: err}
		}
	}
}

// backoff is the wait after the n-th failed attempt: the server's
// Retry-After (capped), else BaseDelay doubled n-1 times, capped at
// MaxDelay, of which a random half is taken off.
func (f *Fetcher) backoff(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		limit := f.Retry.MaxRetryAfter
		if limit <= 0 {
			limit = DefaultMaxRetryAfter
		}
		return min(retryAfter, limit)
	}
	base, limit := f.Retry.BaseDelay, f.Retry.MaxDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	if limit <= 0 {
		limit = DefaultMaxDelay
	}
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	j := rand.Float64
	if f.Jitter != nil {
		j = f.Jitter
	}
	return d/2 + time.Duration(j()*float64(d/2))
}

func (f *Fetcher) sleep(ctx context.Context, d time.Duration) error {
	if f.Sleep != nil {
		return f.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// client is f.Client with a redirect policy that sends each host only its
// own credentials.
func (f *Fetcher) client(kr *netauth.Keyring) *http.Client {
	c := *f.Client
	next := f.Client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return errRedirects
		}
		req.Header.Del("Authorization")
		if req.URL.User == nil {
			if cr, ok := kr.Lookup(req.URL); ok {
				req.SetBasicAuth(cr.Username, cr.Password)
			}
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

// attempt makes one GET; it says whether a failure is worth retrying and
// how long the server asked to wait.
func (f *Fetcher) attempt(ctx context.Context, u *url.URL, accept string, kr *netauth.Keyring, read func(*http.Response) error) (retry bool, wait time.Duration, err error) {
	stall := f.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("%w: no data for %v", ErrStalled, stall)
	timer := time.AfterFunc(stall, func() { cancel(stalled) })
	defer timer.Stop()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, 0, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	cr, hasCreds := kr.Lookup(u)
	if hasCreds {
		req.SetBasicAuth(cr.Username, cr.Password)
	}
	resp, err := f.client(kr).Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, 0, ctx.Err()
		}
		if errors.Is(context.Cause(actx), ErrStalled) {
			return true, 0, stalled
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL
		}
		return retryableNetError(err), 0, err
	}
	defer resp.Body.Close()
	timer.Reset(stall)
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		se := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status}
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			// Say what was sent, or where credentials would have been
			// read; never ask for a variable that is already set.
			if hasCreds {
				se.Hint = cr.String() + " were rejected"
			} else {
				se.Hint = kr.Missing(resp.Request.URL.Host)
			}
		}
		return retryableStatus(resp.StatusCode), f.retryAfter(resp.Header.Get("Retry-After")), se
	}
	body := &guardedBody{r: resp.Body, timer: timer, stall: stall, want: resp.ContentLength}
	resp.Body = body
	if err := read(resp); err != nil {
		if body.err == nil {
			return false, 0, err
		}
		if ctx.Err() != nil {
			return false, 0, ctx.Err()
		}
		if errors.Is(context.Cause(actx), ErrStalled) {
			return true, 0, fmt.Errorf("body %w after %d bytes", stalled, body.n)
		}
		return true, 0, fmt.Errorf("body broke off after %d bytes: %w", body.n, body.err)
	}
	return false, 0, nil
}

// guardedBody keeps the stall timer alive while bytes arrive and records a
// transfer failure, including a body shorter than its Content-Length.
type guardedBody struct {
	r     io.ReadCloser
	timer *time.Timer
	stall time.Duration
	want  int64 // Content-Length, -1 when unknown
	n     int64
	err   error // the first transfer failure
}

func (b *guardedBody) Read(p []byte) (int, error) {
	k, err := b.r.Read(p)
	b.n += int64(k)
	if k > 0 {
		b.timer.Reset(b.stall)
	}
	switch {
	case (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && b.want >= 0 && b.n != b.want:
		err = fmt.Errorf("got %d of %d bytes: %w", b.n, b.want, io.ErrUnexpectedEOF)
		b.err = err
	case err != nil && !errors.Is(err, io.EOF) && b.err == nil:
		b.err = err
	}
	return k, err
}

func (b *guardedBody) Close() error { return b.r.Close() }

func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported:
		return false
	}
	return code >= 500
}

// retryableNetError is false for faults a retry cannot mend: a bad
// certificate, a refused offline request, too many redirects.
func retryableNetError(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return false
	case errors.Is(err, ErrOffline), errors.Is(err, errRedirects):
		return false
	}
	return true
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func (f *Fetcher) retryAfter(h string) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		return time.Duration(min(max(s, 0), 1<<20)) * time.Second
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	return max(t.Sub(now()), 0)
}
