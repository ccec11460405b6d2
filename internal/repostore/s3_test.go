package repostore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/wharf-pkg/wharf/internal/seaweed"
)

func openTestS3(t *testing.T, srv *seaweed.Server, prefix string, o S3Options) *S3 {
	t.Helper()
	o.Getenv = srv.Getenv
	s, err := OpenS3(context.Background(), "s3://"+srv.Bucket+"/"+prefix, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var prefixCount atomic.Int64

func uniquePrefix(name string) string {
	return "t" + strconv.FormatInt(prefixCount.Add(1), 10) + "-" + strings.NewReplacer("/", "-", " ", "-").Replace(strings.ToLower(name))
}

func TestS3Conformance(t *testing.T) {
	srv := seaweed.Start(t)
	conformance(t, func(t *testing.T) Store {
		return openTestS3(t, srv, uniquePrefix(t.Name()), S3Options{})
	})
}

// TestS3ConditionalPut checks what the lease relies on, on the server
// itself: a create over an object and a write with a stale ETag fail with
// 412, and of many simultaneous creates exactly one wins.
func TestS3ConditionalPut(t *testing.T) {
	srv := seaweed.Start(t)
	s := openTestS3(t, srv, uniquePrefix(t.Name()), S3Options{})
	ctx := context.Background()
	rec := leaseRecord{Holder: "a", Host: "h", PID: 1, Expires: time.Now().Add(time.Minute)}
	etag, err := s.putLease(ctx, rec, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.putLease(ctx, rec, "", true); !errors.Is(err, errPrecondition) {
		t.Errorf("If-None-Match: * over an object: %v, want 412", err)
	}
	if _, err := s.putLease(ctx, rec, "0123456789abcdef0123456789abcdef", false); !errors.Is(err, errPrecondition) {
		t.Errorf("If-Match with a stale ETag: %v, want 412", err)
	}
	if _, err := s.putLease(ctx, rec, etag, false); err != nil {
		t.Errorf("If-Match with the current ETag: %v", err)
	}

	race := openTestS3(t, srv, uniquePrefix(t.Name()+"-race"), S3Options{})
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			r := leaseRecord{Holder: strconv.Itoa(i), Expires: time.Now().Add(time.Minute)}
			_, err := race.putLease(ctx, r, "", true)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, errPrecondition):
				t.Errorf("create %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d of 8 simultaneous conditional creates won, want exactly 1", wins.Load())
	}
}

func TestS3Lease(t *testing.T) {
	srv := seaweed.Start(t)
	ctx := context.Background()
	prefix := uniquePrefix(t.Name())
	a := openTestS3(t, srv, prefix, S3Options{Lease: 3 * time.Second})
	b := openTestS3(t, srv, prefix, S3Options{Lease: 3 * time.Second})

	unlock, err := a.Lock(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Held past its first length: the renewal keeps it.
	var log bytes.Buffer
	start := time.Now()
	_, err = b.Lock(ctx, 4*time.Second, &log)
	if !errors.Is(err, ErrLocked) || time.Since(start) < 4*time.Second {
		t.Fatalf("second Lock: %v after %s", err, time.Since(start))
	}
	if want := "pid " + strconv.Itoa(pidOf(t, a)); !strings.Contains(log.String(), "waiting for another publisher ("+want) {
		t.Errorf("log %q does not name the holder (%s)", log.String(), want)
	}
	if err := a.Put(ctx, "after-renewal", strings.NewReader("x")); err != nil {
		t.Errorf("write under a renewed lease: %v", err)
	}
	// A waiter gets the lease once it is released.
	done := make(chan error, 1)
	go func() {
		u, err := b.Lock(ctx, 10*time.Second, nil)
		if err == nil {
			err = u()
		}
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("waiter: %v", err)
	}

	// A lease left by a crashed holder is taken over once expired.
	stale, _ := json.Marshal(leaseRecord{Holder: "dead", Host: "elsewhere", PID: 4242, Expires: time.Now().Add(time.Second).UTC()})
	key, _ := a.key(LeasePath)
	if _, err := a.client.PutObject(ctx, a.bucket, key, bytes.NewReader(stale), int64(len(stale)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	start = time.Now()
	u, err := b.Lock(ctx, 10*time.Second, &log)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 500*time.Millisecond || !strings.Contains(log.String(), "taking over the lease of pid 4242 on elsewhere") {
		t.Errorf("took over after %s, log %q", time.Since(start), log.String())
	}

	// A holder whose lease was taken over stops writing.
	theirs, _ := json.Marshal(leaseRecord{Holder: "thief", Host: "other", PID: 1, Expires: time.Now().Add(time.Hour).UTC()})
	if _, err := a.client.PutObject(ctx, a.bucket, key, bytes.NewReader(theirs), int64(len(theirs)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past one renewal
	if err := b.Put(ctx, "late", strings.NewReader("x")); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("write after the lease was taken: %v, want ErrLeaseLost", err)
	}
	if err := u(); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("release of a lost lease: %v", err)
	}
	if _, err := b.Stat("late"); err == nil {
		t.Error("the write after the lease was lost landed")
	}
}

func pidOf(t *testing.T, s *S3) int {
	t.Helper()
	rec, _, err := s.readLease(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rec.PID
}

// TestS3CacheControl reads the headers back over anonymous HTTP, as a CDN
// or apt would.
func TestS3CacheControl(t *testing.T) {
	srv := seaweed.Start(t)
	prefix := uniquePrefix(t.Name())
	s := openTestS3(t, srv, prefix, S3Options{})
	ctx := context.Background()
	const immutable = "public, max-age=31536000, immutable"
	cases := map[string]string{
		"pool/bookworm/a/app/app_1.0_amd64.deb":                                         immutable,
		"dists/bookworm/stable/binary-amd64/by-hash/SHA256/" + strings.Repeat("a", 64):  immutable,
		"yum/stable/el9/x86_64/repodata/" + strings.Repeat("b", 64) + "-primary.xml.gz": immutable,
		"yum/stable/el9/x86_64/Packages/app-1.0-1.el9.x86_64.rpm":                       immutable,
		"dists/bookworm/InRelease":                                                      "no-cache",
		"dists/bookworm/Release":                                                        "no-cache",
		"dists/bookworm/Release.gpg":                                                    "no-cache",
		"yum/stable/el9/x86_64/repodata/repomd.xml":                                     "no-cache",
		"yum/stable/el9/x86_64/repodata/repomd.xml.asc":                                 "no-cache",
		"dists/bookworm/stable/binary-amd64/Packages.gz":                                "public, max-age=60",
		"wharf.asc": "public, max-age=60",
	}
	for p := range cases {
		if err := s.Put(ctx, p, strings.NewReader(p)); err != nil {
			t.Fatal(err)
		}
	}
	// A copy takes the Cache-Control of where it lands.
	if err := s.Link("dists/bookworm/stable/binary-amd64/Packages.gz", "dists/bookworm/stable/binary-amd64/by-hash/SHA256/"+strings.Repeat("c", 64)); err != nil {
		t.Fatal(err)
	}
	cases["dists/bookworm/stable/binary-amd64/by-hash/SHA256/"+strings.Repeat("c", 64)] = immutable
	for p, want := range cases {
		resp, err := http.Get(srv.URL(prefix + "/" + p))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("anonymous GET %s: %s", p, resp.Status)
			continue
		}
		if got := resp.Header.Get("Cache-Control"); got != want {
			t.Errorf("%s: Cache-Control %q, want %q", p, got, want)
		}
	}
}

// TestS3CredentialsNeverPrinted: a refused request names the failure and
// neither key.
func TestS3CredentialsNeverPrinted(t *testing.T) {
	srv := seaweed.Start(t)
	const id, secret = "AKIAWHARFTESTKEYID00", "wharf-secret-that-must-not-show"
	env := func(name string) string {
		switch name {
		case "AWS_ACCESS_KEY_ID":
			return id
		case "AWS_SECRET_ACCESS_KEY":
			return secret
		}
		return srv.Getenv(name)
	}
	s, err := OpenS3(context.Background(), "s3://"+srv.Bucket+"/creds", S3Options{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		s.Put(context.Background(), "x", strings.NewReader("x")),
		func() error { _, err := s.Lock(context.Background(), time.Second, nil); return err }(),
	} {
		if err == nil {
			t.Fatal("a write with unknown credentials succeeded")
		}
		if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(msg, id) {
			t.Errorf("error shows a credential: %s", msg)
		}
	}
	// A URL with credentials in it is refused without echoing them.
	_, err = OpenS3(context.Background(), "s3://"+id+":"+secret+"@"+srv.Bucket+"/p", S3Options{Getenv: env})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("credentials in the URL: %v", err)
	}
}

func TestParseS3URL(t *testing.T) {
	for _, tc := range []struct {
		in, bucket, prefix string
		ok                 bool
	}{
		{"s3://bucket/prefix", "bucket", "prefix", true},
		{"s3://my.bucket-1/a/b/", "my.bucket-1", "a/b", true},
		{"s3://bucket", "bucket", "", true},
		{"s3://Bucket/x", "", "", false},
		{"s3://bucket/../x", "", "", false},
		{"s3://bucket/.wharf", "", "", false},
		{"s3://bucket/x?versionId=1", "", "", false},
		{"http://bucket/x", "", "", false},
	} {
		b, p, err := ParseS3URL(tc.in)
		if (err == nil) != tc.ok || b != tc.bucket || p != tc.prefix {
			t.Errorf("ParseS3URL(%q) = %q, %q, %v", tc.in, b, p, err)
		}
	}
}

func TestCacheControlClasses(t *testing.T) {
	for p, want := range map[string]string{
		".wharf/lock":                               "no-store",
		".wharf/repository.json":                    "no-store",
		"pool/el9/a/app/app.rpm":                    "public, max-age=31536000, immutable",
		"yum/stable/el9/x86_64/repodata/repomd.xml": "no-cache",
		// Not checksum-named: may change, so short.
		"yum/stable/el9/x86_64/repodata/primary.xml.gz": "public, max-age=60",
	} {
		if got := CacheControl(p); got != want {
			t.Errorf("CacheControl(%q) = %q, want %q", p, got, want)
		}
	}
}
