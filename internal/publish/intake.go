package publish

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharf-pkg/wharf/internal/aptrepo"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/signing"
	"github.com/wharf-pkg/wharf/internal/yumrepo"
)

// A publish reads each package file once, all at once (readInputs), then
// places them in order and refuses conflicts before anything is written,
// then writes the new pool files all at once (intake), signing the rpms
// that need it on every core, and makes them durable with one sync.

// workers is how many package files are read or written at once: two per
// core, so that signing keeps the cores busy while other files wait on
// the disk. More only contend for the locks of the pool's directories
// (measured: 32 workers took more system time than 4 on two cores).
func (p *Publisher) workers() int {
	if p.Workers > 0 {
		return p.Workers
	}
	return 2 * runtime.GOMAXPROCS(0)
}

// each runs fn(i) for i in [0, n) on up to workers goroutines and returns
// the error of the lowest i that failed; the others stop early.
func each(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, max(workers, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := ctx.Err(); err != nil {
					errs[i] = err
					continue
				}
				if errs[i] = fn(ctx, i); errs[i] != nil {
					cancel()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	// The first failure in input order, not one it caused by cancelling.
	var first error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// signerAt is the publisher's signer with its clock stopped at now, so
// that every signature of one change carries the same time, whatever
// order the rpms are signed in.
func (p *Publisher) signerAt(now time.Time) Signer {
	if s, ok := p.Signer.(*signing.Signer); ok {
		return s.At(now)
	}
	return p.Signer
}

// verifier is a Signer that can check its own signatures
// (signing.Signer); an rpm it already signed enters the pool as it is.
type verifier interface {
	Verify(data, sig []byte) error
}

// Files of up to keepSmall bytes are held in memory from their reading to
// their intake, up to keepBudget bytes in all (per process).
const (
	keepSmall  = 1 << 20
	keepBudget = 512 << 20
)

var keptBytes atomic.Int64

// syncEach is the most new pool files synced one by one.
const syncEach = 16

// release drops the file's bytes held since it was read.
func (in *input) release() {
	if in != nil && in.data != nil {
		keptBytes.Add(-int64(len(in.data)))
		in.data = nil
	}
}

// readers are the read buffers of the files being read: thousands of
// small packages must not cost a large buffer each.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 128<<10) }}

// readInputs reads every package file at once, each once.
func (p *Publisher) readInputs(ctx context.Context, r *repository, files []string, now time.Time) ([]*input, error) {
	start := time.Now()
	inputs := make([]*input, len(files))
	err := each(ctx, len(files), p.workers(), func(ctx context.Context, i int) error {
		in, err := p.readInput(ctx, r, files[i], now)
		inputs[i] = in
		return err
	})
	if err != nil {
		for _, in := range inputs {
			in.release()
		}
	} else {
		p.logf("read %d package files in %s", len(files), time.Since(start).Round(time.Millisecond))
	}
	return inputs, err
}

// readInput reads one package file: its metadata and digests, where it
// goes in the pool and whether the pool has that file.
func (p *Publisher) readInput(ctx context.Context, r *repository, file string, now time.Time) (*input, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read package: %w", err)
	}
	defer f.Close()
	var data []byte
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() <= keepSmall {
		// Small files are read whole and kept for intake, which then
		// need not open them again.
		if keptBytes.Add(st.Size()) <= keepBudget {
			data = make([]byte, st.Size())
			if _, err := io.ReadFull(f, data); err != nil {
				keptBytes.Add(-st.Size())
				return nil, fmt.Errorf("read package %s: %w", file, err)
			}
		} else {
			keptBytes.Add(-st.Size())
		}
	}
	kept := false
	defer func() {
		if !kept && data != nil {
			keptBytes.Add(-int64(len(data)))
		}
	}()
	br := readers.Get().(*bufio.Reader)
	defer func() {
		br.Reset(nil) // the pool must not keep the file
		readers.Put(br)
	}()
	if data != nil {
		br.Reset(bytes.NewReader(data))
	} else {
		br.Reset(readerUntil{ctx, f}) // digesting a large file stops at an interrupt
	}
	magic, err := br.Peek(8)
	if err != nil {
		return nil, fmt.Errorf("%s is not a .deb or .rpm: %w", file, err)
	}
	var in *input
	switch {
	case string(magic) == "!<arch>\n":
		in, err = p.readDeb(r, file, br)
	case bytes.HasPrefix(magic, []byte{0xed, 0xab, 0xee, 0xdb}):
		in, err = p.readRPM(r, file, br, now)
	default:
		return nil, fmt.Errorf("%s is neither a .deb (ar archive) nor an .rpm (lead magic ed ab ee db)", file)
	}
	if err != nil {
		return nil, err
	}
	_, err = p.Store.Stat(in.pool)
	switch {
	case err == nil:
		in.inPool = true
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("pool file %s: %w", in.pool, err)
	}
	in.data, kept = data, true
	return in, nil
}

// counter counts the bytes written to it.
type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

func (p *Publisher) readDeb(r *repository, file string, br io.Reader) (*input, error) {
	m, s1, s256 := md5.New(), sha1.New(), sha256.New()
	var size counter
	info, err := deb.ReadControl(io.TeeReader(br, io.MultiWriter(m, s1, s256, &size)))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	name, _ := info.Field("Package")
	version, _ := info.Field("Version")
	arch, _ := info.Field("Architecture")
	if name == "" || version == "" || arch == "" {
		return nil, fmt.Errorf("%s: control lacks Package, Version or Architecture", file)
	}
	// The pool path is made of these: checked before anything is written.
	if err := deb.CheckIdentity(name, version, arch); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	target, _ := info.Field(TargetField)
	target = strings.TrimSpace(target)
	in := &input{file: file, format: "deb", id: name + " " + version + " " + arch}
	poolDir := legacyComponent
	if r.fleet() {
		if in.rel, err = routeDeb(file, target, p.Distro); err != nil {
			return nil, err
		}
		in.distro, poolDir = in.rel.distro, in.rel.dir
	} else if in.distro = target; in.distro == "" {
		in.distro = p.Distro
	}
	source := name
	if s, ok := info.Field("Source"); ok && strings.TrimSpace(s) != "" {
		source = strings.Fields(s)[0]
		if err := deb.CheckSourceName(source); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	upstream := version
	if i := strings.IndexByte(upstream, ':'); i >= 0 {
		upstream = upstream[i+1:]
	}
	in.pool = aptrepo.PoolPath(poolDir, source, name+"_"+upstream+"_"+arch+".deb")
	sums := aptrepo.Sums{MD5: hex.EncodeToString(m.Sum(nil)), SHA1: hex.EncodeToString(s1.Sum(nil)), SHA256: hex.EncodeToString(s256.Sum(nil))}
	in.deb = aptrepo.PackageStanza(info, in.pool, int64(size), sums)
	return in, nil
}

func (p *Publisher) readRPM(r *repository, file string, br io.Reader, now time.Time) (*input, error) {
	pkg, info, err := yumrepo.ReadRPMInfo(br, yumrepo.ReadOptions{FileTime: now.Unix()})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	epoch := ""
	if info.HasEpoch {
		epoch = pkg.Epoch
	}
	if err := rpm.CheckNEVRA(pkg.Name, epoch, pkg.Version, pkg.Release, pkg.Arch); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	evr := pkg.Version + "-" + pkg.Release
	if info.HasEpoch {
		evr = pkg.Epoch + ":" + evr
	}
	in := &input{file: file, format: "rpm", id: pkg.Name + " " + evr + " " + pkg.Arch, rpmInfo: info}
	poolDir := legacyComponent
	if r.fleet() {
		if in.rel, err = routeRPM(file, pkg.Release, p.Distro); err != nil {
			return nil, err
		}
		in.distro, poolDir = in.rel.distro, in.rel.dir
	} else if tagged, ok := rpmReleaseOf(pkg.Release); ok {
		in.distro = tagged.distro
	} else {
		in.distro = p.Distro
	}
	base := pkg.Name + "-" + pkg.Version + "-" + pkg.Release + "." + pkg.Arch + ".rpm"
	in.pool = aptrepo.PoolPath(poolDir, pkg.Name, base)
	pkg.Location = yumPackagePath(base)
	in.rpm = pkg
	return in, nil
}

// checkDebPool compares a deb with the pool file of its name, version and
// architecture: the suite's index says its digest, else the file is read.
func (p *Publisher) checkDebPool(in *input, d debPlace) error {
	want := field(in.deb, "SHA256")
	got := ""
	for _, list := range d.s.apt.Packages {
		for _, s := range list {
			if debPool(s) == in.pool {
				got = field(s, "SHA256")
				break
			}
		}
	}
	if got == "" {
		var err error
		if got, err = p.poolDigest(in.pool, func(r io.Reader) (string, error) {
			h := sha256.New()
			_, err := io.Copy(h, r)
			return hex.EncodeToString(h.Sum(nil)), err
		}); err != nil {
			return err
		}
	}
	if got != want {
		name, version, arch := field(in.deb, "Package"), field(in.deb, "Version"), field(in.deb, "Architecture")
		return fmt.Errorf("%w: %s %s (%s) is published as %s with sha256 %s; %s has sha256 %s: publish it under a new version or iteration",
			ErrConflict, name, version, arch, in.pool, got, in.file, want)
	}
	return nil
}

// checkRPMPool compares an rpm with the pool file of its name, version,
// release and architecture by content (what a signature does not change).
// The pool file is neither signed nor parsed again: when y lists it, its
// metadata is reused and only its content from the main header on is
// hashed; else it is read once.
func (p *Publisher) checkRPMPool(ctx context.Context, in *input, y *yumRepo, now time.Time) error {
	var got string
	var pooled yumrepo.Package
	if i, ok := y.lookup(nevra(in.rpm)); ok && y.poolPath(y.rpms[i]) == in.pool {
		pooled = y.rpms[i]
		d, err := p.poolDigest(in.pool, func(r io.Reader) (string, error) {
			if _, err := io.CopyN(io.Discard, r, pooled.HeaderStart); err != nil {
				return "", err
			}
			h := sha256.New()
			_, err := io.Copy(h, r)
			return hex.EncodeToString(h.Sum(nil)), err
		})
		if err != nil {
			return err
		}
		got = d
	} else {
		rc, err := p.Store.Get(in.pool)
		if err != nil {
			return fmt.Errorf("read pool file %s: %w", in.pool, err)
		}
		defer rc.Close()
		pkg, info, err := yumrepo.ReadRPMInfo(bufio.NewReaderSize(rc, 256<<10), yumrepo.ReadOptions{Location: in.rpm.Location, FileTime: now.Unix()})
		if err != nil {
			return fmt.Errorf("read pool file %s: %w", in.pool, err)
		}
		got, pooled = info.ContentSHA256, pkg
	}
	if want := in.rpmInfo.ContentSHA256; got != want {
		name, evr, arch := in.rpm.Name, strings.TrimPrefix(in.id, in.rpm.Name+" "), in.rpm.Arch
		evr = strings.TrimSuffix(evr, " "+arch)
		return fmt.Errorf("%w: %s %s (%s) is published as %s with content sha256 %s; %s has content sha256 %s: publish it under a new version or iteration",
			ErrConflict, name, evr, arch, in.pool, got, in.file, want)
	}
	in.rpm = pooled
	return nil
}

// intake writes the pool files of the inputs the pool lacks, all at once:
// debs copied, rpms signed on the way (or copied, when the signer's key
// already signed them), then made durable with one sync when the store
// can defer it.
func (p *Publisher) intake(ctx context.Context, inputs []*input, signer Signer) error {
	var todo []*input
	for _, in := range inputs {
		if !in.inPool {
			todo = append(todo, in)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	start := time.Now()
	var signedCount, keptCount atomicCount
	// Many files are synced at once (one syncfs: it costs what the whole
	// file system has to write, so a few are synced one by one).
	put := p.Store.Put
	syncer, deferred := p.Store.(repostore.Syncer)
	if deferred = deferred && len(todo) > syncEach; deferred {
		put = syncer.PutNoSync
	}
	err := each(ctx, len(todo), p.workers(), func(ctx context.Context, i int) error {
		in := todo[i]
		var f io.Reader
		if in.data != nil {
			f = bytes.NewReader(in.data)
			defer in.release()
		} else {
			file, err := os.Open(in.file)
			if err != nil {
				return fmt.Errorf("read package: %w", err)
			}
			defer file.Close()
			f = file
		}
		// What is written must be what was read: a file that changed in
		// between is refused (and its pool file removed).
		changed := func() error {
			p.Store.Remove(in.pool)
			return fmt.Errorf("%s changed while it was being published", in.file)
		}
		if in.format == "deb" || alreadySigned(in.rpmInfo, signer) {
			want := field(in.deb, "SHA256")
			if in.format == "rpm" {
				keptCount.add()
				want = in.rpm.Checksum
			}
			h := sha256.New()
			if err := put(ctx, in.pool, io.TeeReader(f, h)); err != nil {
				return err
			}
			if hex.EncodeToString(h.Sum(nil)) != want {
				return changed()
			}
			return nil
		}
		signedCount.add()
		signed, err := signInto(ctx, put, in.pool, f, signer)
		if err != nil {
			return fmt.Errorf("sign %s: %w", in.file, err)
		}
		if signed.ContentSHA256() != in.rpmInfo.ContentSHA256 {
			return changed()
		}
		if in.rpm, err = signed.Describe(in.rpm); err != nil {
			return fmt.Errorf("sign %s: %w", in.file, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	written := time.Since(start)
	if deferred {
		if err := untilDone(ctx, syncer.Sync); err != nil {
			return err
		}
	}
	p.logf("wrote %d pool files in %s, synced in %s (%d rpms signed, %d kept with the key's signature)",
		len(todo), written.Round(time.Millisecond), (time.Since(start) - written).Round(time.Millisecond), signedCount.load(), keptCount.load())
	return nil
}

// atomicCount counts across workers.
type atomicCount struct{ n atomic.Int64 }

func (c *atomicCount) add()        { c.n.Add(1) }
func (c *atomicCount) load() int64 { return c.n.Load() }

// alreadySigned says whether the rpm's only OpenPGP signature is a valid
// header signature by signer's key: signing again would only change its
// time.
func alreadySigned(info yumrepo.RPMInfo, signer Signer) bool {
	v, ok := signer.(verifier)
	if !ok || len(info.Signatures) != 1 {
		return false
	}
	tag, _ := signer.RPMTags()
	sig, ok := info.Signatures[tag]
	return ok && v.Verify(info.MainHeader, sig) == nil
}

// signInto streams the rpm in src, signed, into the store at dst and
// returns the tally of what was written.
func signInto(ctx context.Context, put func(context.Context, string, io.Reader) error, dst string, src io.Reader, signer Signer) (*yumrepo.Tally, error) {
	tally := yumrepo.NewTally()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := rpm.Sign(io.MultiWriter(pw, tally), src, signer)
		pw.CloseWithError(err)
		done <- err
	}()
	err := put(ctx, dst, pr)
	// A failed write leaves the signer blocked on the pipe: end it.
	pr.CloseWithError(errors.New("the pool file was not written"))
	serr := <-done
	if err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, serr
	}
	return tally, nil
}
