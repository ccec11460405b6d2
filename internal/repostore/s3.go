package repostore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"gopkg.in/ini.v1"
)

// S3 is a Store in an S3-compatible bucket, under a key prefix, through
// minio-go: a client made for any S3 endpoint (AWS, MinIO, SeaweedFS, Ceph,
// R2), with path-style addressing for custom endpoints, the AWS credential
// chain (environment, shared files, instance roles) and conditional PUT
// (If-None-Match / If-Match) for the publisher's lease, in one module
// instead of the AWS SDK's dozen.
//
// An object PUT is atomic (a reader sees the old or the new object), but an
// object store has neither hard links nor symlinks: Link is a server-side
// copy, Rename a copy and a delete, and S3 is no DirSwitcher, so publish
// writes new uniquely named objects first and the top files last. Every
// object carries a Cache-Control fit for a CDN (see CacheControl).
type S3 struct {
	client *minio.Client
	bucket string
	prefix string // "" or "dir/sub", no slashes around
	opts   S3Options

	// guard is set while a lease is held: every write first checks that
	// the lease is still ours, so a publisher whose lease lapsed stops
	// before it can overwrite its successor's work.
	mu    sync.Mutex
	guard *lease
	steps stepTracker
}

// S3Options configure OpenS3.
type S3Options struct {
	// Getenv reads the AWS_* environment (see OpenS3); nil is os.Getenv.
	Getenv func(string) string
	// Lease is how long the publisher lease lasts without renewal, so how
	// long a crashed publisher blocks the next; 0 is DefaultLease.
	Lease time.Duration
	// OnStep, when set, is called as a change passes each of its steps
	// (StepPoolWritten, StepIndexesWritten) — for tests that kill a
	// publisher at a given step.
	OnStep func(step string)
}

// DefaultLease is the lifetime of a publisher lease that is not renewed.
const DefaultLease = 2 * time.Minute

// Steps of a change on an object store, in order (see S3Options.OnStep).
const (
	// StepPoolWritten: the new package objects are written, no index yet.
	StepPoolWritten = "pool-written"
	// StepIndexesWritten: the indexes are written, no top file yet.
	StepIndexesWritten = "indexes-written"
)

// IsS3URL says whether a --repo value names an object store.
func IsS3URL(s string) bool { return strings.HasPrefix(s, "s3://") }

// ParseS3URL splits s3://bucket/prefix into the bucket and the key prefix.
func ParseS3URL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" {
		return "", "", fmt.Errorf("repository URL %q is not s3://bucket/prefix", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("repository URL %q: credentials, query and fragment do not belong in it (credentials come from the AWS environment)", redactURL(u))
	}
	bucket = u.Host
	if !bucketName.MatchString(bucket) {
		return "", "", fmt.Errorf("repository URL %q: %q is not an S3 bucket name", raw, bucket)
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" && (!fs.ValidPath(prefix) || strings.HasPrefix(path.Base(prefix), ".")) {
		return "", "", fmt.Errorf("repository URL %q: prefix %q is not a clean path", raw, prefix)
	}
	return bucket, prefix, nil
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// OpenS3 opens the repository at rawURL (s3://bucket/prefix). The endpoint
// is AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL when set (any S3-compatible
// store, addressed path-style), else AWS's; the region AWS_REGION,
// AWS_DEFAULT_REGION or the profile's in AWS_CONFIG_FILE (~/.aws/config).
// Credentials come, first found, from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; the profile AWS_PROFILE of
// AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials); the instance's role.
// No error carries them.
func OpenS3(ctx context.Context, rawURL string, o S3Options) (*S3, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	bucket, prefix, err := ParseS3URL(rawURL)
	if err != nil {
		return nil, err
	}
	env := o.Getenv
	endpoint, secure, lookup := "s3.amazonaws.com", true, minio.BucketLookupAuto
	for _, name := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		v := env(name)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return nil, fmt.Errorf("%s: %q is not an endpoint URL like https://host:port", name, v)
		}
		endpoint, secure, lookup = u.Host, u.Scheme == "https", minio.BucketLookupPath
		break
	}
	region := firstSet(env("AWS_REGION"), env("AWS_DEFAULT_REGION"), profileRegion(env))
	if region == "" && lookup == minio.BucketLookupPath {
		region = "us-east-1" // what custom stores expect when none is set
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.New(&awsChain{env: env}),
		Secure:       secure,
		Region:       region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", rawURL, err)
	}
	return &S3{client: client, bucket: bucket, prefix: prefix, opts: o}, nil
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// profileRegion is the region of the AWS_PROFILE profile ("default") in
// AWS_CONFIG_FILE (~/.aws/config); "" when it says none.
func profileRegion(env func(string) string) string {
	file := env("AWS_CONFIG_FILE")
	if file == "" {
		home := env("HOME")
		if home == "" {
			return ""
		}
		file = path.Join(home, ".aws", "config")
	}
	cfg, err := ini.Load(file)
	if err != nil {
		return ""
	}
	profile := firstSet(env("AWS_PROFILE"), "default")
	section := "profile " + profile
	if profile == "default" {
		section = "default"
	}
	return cfg.Section(section).Key("region").String()
}

// awsChain is the AWS credential chain read through the injected
// environment: static keys, the shared credentials file, the instance role.
type awsChain struct {
	env  func(string) string
	from credentials.Provider
}

func (c *awsChain) Retrieve() (credentials.Value, error) {
	return c.RetrieveWithCredContext(nil)
}

func (c *awsChain) RetrieveWithCredContext(cc *credentials.CredContext) (credentials.Value, error) {
	env := c.env
	if id, secret := env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		c.from = nil
		return credentials.Value{AccessKeyID: id, SecretAccessKey: secret, SessionToken: env("AWS_SESSION_TOKEN"), SignerType: credentials.SignatureV4}, nil
	}
	file := env("AWS_SHARED_CREDENTIALS_FILE")
	if file == "" && env("HOME") != "" {
		file = path.Join(env("HOME"), ".aws", "credentials")
	}
	providers := []credentials.Provider{
		&credentials.FileAWSCredentials{Filename: file, Profile: firstSet(env("AWS_PROFILE"), "default")},
		&credentials.IAM{},
	}
	for _, p := range providers {
		v, err := p.RetrieveWithCredContext(cc)
		if err == nil && v.AccessKeyID != "" {
			c.from = p
			return v, nil
		}
	}
	// Anonymous: a public bucket can still be read (repo list).
	c.from = nil
	return credentials.Value{SignerType: credentials.SignatureAnonymous}, nil
}

func (c *awsChain) IsExpired() bool { return c.from != nil && c.from.IsExpired() }

func (s *S3) String() string {
	return "s3://" + path.Join(s.bucket, s.prefix)
}

func (s *S3) key(p string) (string, error) {
	if !fs.ValidPath(p) || p == "." {
		return "", fmt.Errorf("repository path %q is not a clean relative path", p)
	}
	if s.prefix == "" {
		return p, nil
	}
	return s.prefix + "/" + p, nil
}

// rel turns an object key back into a store path.
func (s *S3) rel(key string) string {
	if s.prefix == "" {
		return key
	}
	return strings.TrimPrefix(key, s.prefix+"/")
}

// dirKey is the key prefix of the directory p ("" is the root).
func (s *S3) dirKey(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" || p == "." {
		if s.prefix == "" {
			return "", nil
		}
		return s.prefix + "/", nil
	}
	k, err := s.key(p)
	if err != nil {
		return "", err
	}
	return k + "/", nil
}

// CacheControl is the Cache-Control of the object at p: a year and
// immutable for what is named by its content or never rewritten (pool
// files, their yum copies, by-hash indexes, checksum-named yum
// documents); no-cache (revalidate every time) for the signed top files
// (InRelease, Release, Release.gpg, repomd.xml and its signature) so that a
// CDN never pairs a stale one with a fresh one; a minute for the other
// indexes and the key; no-store for wharf's own state.
func CacheControl(p string) string {
	base := path.Base(p)
	switch {
	case strings.HasPrefix(p, ".wharf/"):
		return "no-store"
	case strings.HasPrefix(p, "pool/") || strings.Contains(p, "/by-hash/") ||
		strings.HasPrefix(p, "yum/") && strings.Contains(p, "/Packages/") ||
		strings.Contains(p, "/repodata/") && yumDocument.MatchString(base):
		return "public, max-age=31536000, immutable"
	case isTopFile(base):
		return "no-cache"
	default:
		return "public, max-age=60"
	}
}

// yumDocument is a yum metadata document named by its checksum, as
// createrepo's unique file names are.
var yumDocument = regexp.MustCompile(`^[0-9a-f]{64}-[a-z_]+\.xml(\.(gz|xz|zst|bz2))?$`)

func isTopFile(base string) bool {
	switch base {
	case "InRelease", "Release", "Release.gpg", "repomd.xml", "repomd.xml.asc":
		return true
	}
	return false
}

// contentType helps browsers and proxies; apt and dnf do not read it.
func contentType(p string) string {
	switch path.Ext(p) {
	case ".deb":
		return "application/vnd.debian.binary-package"
	case ".rpm":
		return "application/x-rpm"
	case ".gz":
		return "application/gzip"
	case ".xml":
		return "application/xml"
	case ".asc", ".gpg":
		return "application/pgp-signature"
	}
	return "application/octet-stream"
}

// Put uploads p from r with a known length: a single PUT (multipart for
// large files, completed at once), so the object appears whole or not at
// all. A reader of unknown length is spooled to a temporary file first,
// so that a failing reader uploads nothing.
func (s *S3) Put(ctx context.Context, p string, r io.Reader) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return fmt.Errorf("put %s: %w", p, err)
	}
	s.step(p)
	size := int64(-1)
	switch v := r.(type) {
	case *bytes.Reader:
		size = int64(v.Len())
	case *strings.Reader:
		size = int64(v.Len())
	}
	if size < 0 {
		tmp, err := os.CreateTemp("", "wharf-s3-put-")
		if err != nil {
			return fmt.Errorf("put %s: %w", p, err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if size, err = io.Copy(tmp, r); err != nil {
			return fmt.Errorf("put %s: %w", p, err)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("put %s: %w", p, err)
		}
		r = tmp
	}
	wctx, done := s.writeCtx(ctx)
	defer done()
	_, err = s.client.PutObject(wctx, s.bucket, key, r, size, minio.PutObjectOptions{
		CacheControl: CacheControl(p),
		ContentType:  contentType(p),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", p, s.wrap(err))
	}
	return nil
}

// Get opens the object at p.
func (s *S3) Get(p string) (io.ReadCloser, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(context.Background(), s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", p, s.wrap(err))
	}
	// GetObject is lazy: Stat makes the request, so a missing object is
	// reported here and not at the first Read.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, &fs.PathError{Op: "get", Path: p, Err: s.wrap(err)}
	}
	return obj, nil
}

// Stat describes the object at p; a key prefix with objects under it is a
// directory.
func (s *S3) Stat(p string) (fs.FileInfo, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, err
	}
	info, err := s.client.StatObject(context.Background(), s.bucket, key, minio.StatObjectOptions{})
	if err == nil {
		return objectInfo{name: path.Base(p), size: info.Size, mod: info.LastModified}, nil
	}
	err = s.wrap(err)
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	entries, lerr := s.ListDir(p)
	if lerr == nil && len(entries) > 0 {
		return objectInfo{name: path.Base(p), dir: true}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
}

type objectInfo struct {
	name string
	size int64
	mod  time.Time
	dir  bool
}

func (o objectInfo) Name() string       { return o.name }
func (o objectInfo) Size() int64        { return o.size }
func (o objectInfo) ModTime() time.Time { return o.mod }
func (o objectInfo) IsDir() bool        { return o.dir }
func (o objectInfo) Sys() any           { return nil }
func (o objectInfo) Mode() fs.FileMode {
	if o.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

// List returns every object under the directory prefix, sorted.
func (s *S3) List(prefix string) ([]string, error) {
	return s.list(prefix, true)
}

// ListDir returns the objects and the subdirectories (common prefixes)
// directly in prefix, sorted.
func (s *S3) ListDir(prefix string) ([]string, error) {
	return s.list(prefix, false)
}

func (s *S3) list(prefix string, recursive bool) ([]string, error) {
	dir, err := s.dirKey(prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for obj := range s.client.ListObjects(context.Background(), s.bucket, minio.ListObjectsOptions{Prefix: dir, Recursive: recursive}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, s.wrap(obj.Err))
		}
		name := strings.TrimSuffix(s.rel(obj.Key), "/")
		if name == "" || name == strings.TrimSuffix(dir, "/") || (recursive && strings.HasSuffix(obj.Key, "/")) {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Remove deletes the object at p; a missing one is no error.
func (s *S3) Remove(p string) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	wctx, done := s.writeCtx(context.Background())
	defer done()
	if err := s.client.RemoveObject(wctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if err := s.wrap(err); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return nil
}

// Rename copies oldpath to newpath on the server and deletes oldpath: the
// new object appears whole, but the two steps are not one.
func (s *S3) Rename(oldpath, newpath string) error {
	if err := s.Link(oldpath, newpath); err != nil {
		return err
	}
	return s.Remove(oldpath)
}

// Link copies oldpath to newpath on the server (no data through the
// client), with newpath's Cache-Control.
func (s *S3) Link(oldpath, newpath string) error {
	from, err := s.key(oldpath)
	if err != nil {
		return err
	}
	to, err := s.key(newpath)
	if err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return fmt.Errorf("link %s: %w", newpath, err)
	}
	s.step(newpath)
	wctx, done := s.writeCtx(context.Background())
	defer done()
	_, err = s.client.CopyObject(wctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: to, ReplaceMetadata: true, UserMetadata: map[string]string{
			"Cache-Control": CacheControl(newpath),
			"Content-Type":  contentType(newpath),
		}},
		minio.CopySrcOptions{Bucket: s.bucket, Object: from})
	if err != nil {
		return fmt.Errorf("link %s to %s: %w", oldpath, newpath, s.wrap(err))
	}
	return nil
}

// wrap maps a missing object or bucket to fs.ErrNotExist and a failed
// precondition to errPrecondition; the message is the server's, which
// names no credential.
func (s *S3) wrap(err error) error {
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket":
		return fmt.Errorf("%w (%s)", fs.ErrNotExist, resp.Code)
	case resp.Code == "NoSuchBucket":
		return fmt.Errorf("bucket %s does not exist", s.bucket)
	case resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed":
		return errPrecondition
	case resp.Code == "InvalidAccessKeyId" || resp.Code == "SignatureDoesNotMatch" || resp.Code == "AccessDenied":
		return fmt.Errorf("%s: %s (check the AWS credentials in the environment or the shared credentials file)", resp.Code, resp.Message)
	}
	return err
}

var errPrecondition = errors.New("precondition failed")

// stepTracker calls OnStep once per step as the kinds of object written
// change: package files, then indexes, then top files.
type stepTracker struct {
	pool, index, top bool
}

func (s *S3) step(p string) {
	if s.opts.OnStep == nil || strings.HasPrefix(p, ".wharf/") {
		return
	}
	s.mu.Lock()
	t := &s.steps
	var fire []string
	switch base := path.Base(p); {
	case CacheControl(p) == "public, max-age=31536000, immutable" && !strings.Contains(p, "/by-hash/") && !strings.Contains(p, "/repodata/"):
		t.pool = true
	case isTopFile(base):
		if !t.index {
			t.index = true
			if t.pool {
				fire = append(fire, StepPoolWritten)
			}
		}
		if !t.top {
			t.top = true
			fire = append(fire, StepIndexesWritten)
		}
	default:
		if !t.index && t.pool {
			fire = append(fire, StepPoolWritten)
		}
		t.index = true
	}
	s.mu.Unlock()
	for _, st := range fire {
		s.opts.OnStep(st)
	}
}
