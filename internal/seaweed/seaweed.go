// Package seaweed starts a real S3-compatible server for tests: SeaweedFS
// (`weed server -s3`) on 127.0.0.1 with free ports, a temporary data
// directory, one access key with every right and anonymous read (as a
// public bucket behind a CDN serves apt and dnf). Only tests import it.
//
// The binary is built from the Go module proxy by .ci/run into
// /var/tmp/wharf-tools/seaweedfs-<Version>/weed (or named by
// $WHARF_SEAWEEDFS); without it a test fails under CI=true and is skipped
// elsewhere.
package seaweed

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// Version is the SeaweedFS module version the tests run (a master commit:
// the project tags releases without a "v", which the module proxy does not
// list). It honours conditional PUT (If-None-Match, If-Match: 412 when they
// fail), checked under its per-path lock.
const Version = "v0.0.0-20261109003541-7506e5f91cd6"

// EnvBinary names a weed binary to use instead of the cached build.
const EnvBinary = "WHARF_SEAWEEDFS"

// Server is a running SeaweedFS S3 gateway.
type Server struct {
	// Endpoint is http://127.0.0.1:PORT, the S3 API and anonymous reads.
	Endpoint string
	// AccessKey and SecretKey have every right.
	AccessKey, SecretKey string
	// Bucket exists, empty, readable anonymously.
	Bucket string
}

// Binary is the path of the weed binary (see the package doc).
func Binary(t testing.TB) string {
	t.Helper()
	p := os.Getenv(EnvBinary)
	if p == "" {
		p = filepath.Join("/var/tmp/wharf-tools", "seaweedfs-"+Version, "weed")
	}
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("SeaweedFS %s is not built at %s (.ci/run builds it): %v", Version, p, err)
		if testenv.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	weed := Binary(t)
	dir := t.TempDir()
	s := &Server{AccessKey: "wharf-test-access", SecretKey: "wharf-test-secret-" + strconv.FormatInt(time.Now().UnixNano(), 36), Bucket: "wharf-repo"}
	cfg, _ := json.Marshal(map[string]any{"identities": []map[string]any{
		{"name": "admin", "credentials": []map[string]string{{"accessKey": s.AccessKey, "secretKey": s.SecretKey}},
			"actions": []string{"Admin", "Read", "List", "Tagging", "Write"}},
		{"name": "anonymous", "actions": []string{"Read"}},
	}})
	cfgFile := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 12)
	s3Port := ports[0]
	args := []string{"server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=" + filepath.Join(dir, "data"),
		"-master.port=" + ports[1], "-master.port.grpc=" + ports[2],
		"-volume.port=" + ports[3], "-volume.port.grpc=" + ports[4],
		"-filer", "-filer.port=" + ports[5], "-filer.port.grpc=" + ports[6],
		"-s3", "-s3.port=" + s3Port, "-s3.port.grpc=" + ports[7], "-s3.config=" + cfgFile,
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		"-debug.port=" + ports[8], "-iam.port=" + ports[9], "-webdav.port=" + ports[10],
		"-master.telemetry=false", "-volume.max=20", "-master.volumeSizeLimitMB=64",
		"-filer.localSocket=" + filepath.Join(dir, "filer.sock"), "-s3.localSocket=" + filepath.Join(dir, "s3.sock"),
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(weed, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", weed, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		logFile.Close()
	})
	s.Endpoint = "http://127.0.0.1:" + s3Port
	client, err := minio.New("127.0.0.1:"+s3Port, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	// Ready once the bucket can be made and written to: the filer and a
	// volume are up.
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("weed server exited: %v\n%s", err, tail(log))
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("weed server not ready after 90s: %v\n%s", last, tail(log))
		}
		last = ready(client, s.Bucket)
		if last == nil {
			return s
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func ready(c *minio.Client, bucket string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ok, err := c.BucketExists(ctx, bucket); err != nil {
		return err
	} else if !ok {
		if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
			return err
		}
	}
	_, err := c.PutObject(ctx, bucket, ".ready", http.NoBody, 0, minio.PutObjectOptions{})
	if err != nil {
		return err
	}
	return c.RemoveObject(ctx, bucket, ".ready", minio.RemoveObjectOptions{})
}

// Env is the AWS environment of a client of s: endpoint, keys, region.
func (s *Server) Env() []string {
	return []string{"AWS_ENDPOINT_URL=" + s.Endpoint, "AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey, "AWS_REGION=us-east-1"}
}

// Getenv reads Env, for code that takes an injected environment.
func (s *Server) Getenv(name string) string {
	switch name {
	case "AWS_ENDPOINT_URL":
		return s.Endpoint
	case "AWS_ACCESS_KEY_ID":
		return s.AccessKey
	case "AWS_SECRET_ACCESS_KEY":
		return s.SecretKey
	case "AWS_REGION":
		return "us-east-1"
	}
	return ""
}

// URL is the anonymous HTTP address of the objects under prefix.
func (s *Server) URL(prefix string) string {
	return s.Endpoint + "/" + s.Bucket + "/" + prefix
}

func freePorts(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	var ls []net.Listener
	for len(out) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
