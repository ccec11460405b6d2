package wheelhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wharf-pkg/wharf/internal/cas"
	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/netauth"
	"github.com/wharf-pkg/wharf/internal/simpleindex"
	"github.com/wharf-pkg/wharf/internal/wheel"
)

// maxMetadata bounds a METADATA file read into memory.
const maxMetadata = 16 << 20

// Metadata returns the core metadata (the METADATA file) of c's wheel: the
// index's URL + ".metadata" file when it offers one (PEP 658/714), verified
// against its hashes, else the wheel's *.dist-info/METADATA, the wheel
// being fetched into the cache. Both are cached, so a second call, or one
// offline, needs no network.
func (f *Finder) Metadata(ctx context.Context, c simpleindex.Candidate) ([]byte, error) {
	if f.Cache == nil {
		return nil, errors.New("metadata: no cache configured")
	}
	var offline error // the metadata file is not cached: a cached wheel will do
	if c.CoreMetadata {
		data, err := f.coreMetadata(ctx, c)
		switch {
		case err == nil:
			return data, nil
		case errors.Is(err, ErrOffline):
			offline = err
		case isMissing(err):
			f.logf("warning: %s: the index offers %s.metadata but it is missing (%v); reading the wheel", c.Filename, c.Filename, err)
		default:
			return nil, err
		}
	}
	if _, err := distname.ParseWheel(c.Filename); err != nil {
		if offline != nil {
			return nil, offline
		}
		return nil, fmt.Errorf("metadata of %s: %w: not a wheel, and the index offers no metadata file", c.Filename, ErrNoMetadata)
	}
	p, err := f.Fetch(ctx, Choice{Candidate: c}, nil)
	if err != nil {
		if offline != nil {
			return nil, fmt.Errorf("%w; nor is the wheel", offline)
		}
		return nil, fmt.Errorf("metadata of %s: %w", c.Filename, err)
	}
	w, err := wheel.OpenAs(p, c.Filename)
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", c.Filename, err)
	}
	defer w.Close()
	m, ok := w.Member(w.DistInfo + "/METADATA")
	if !ok {
		return nil, fmt.Errorf("metadata of %s: %w: no %s/METADATA in the wheel", c.Filename, ErrNoMetadata, w.DistInfo)
	}
	rc, err := m.Open()
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", c.Filename, err)
	}
	defer rc.Close()
	return readLimited(rc, c.Filename+" METADATA")
}

// coreMetadata fetches URL + ".metadata" into the cache, checked against
// the index's sha256 while it streams and against sha384/sha512 after.
func (f *Finder) coreMetadata(ctx context.Context, c simpleindex.Candidate) ([]byte, error) {
	metaURL := c.URL + ".metadata"
	what := c.Filename + ".metadata"
	var want cas.Digest
	if hx, ok := c.CoreMetadataHashes["sha256"]; ok {
		d, err := cas.NewDigest("sha256", hx)
		if err != nil {
			return nil, fmt.Errorf("%s: metadata hash from %s: %w", what, c.Source, err)
		}
		want = d
	}
	var p string
	hit := false
	switch {
	case !want.IsZero():
		p, hit = f.Cache.Path(want)
	default:
		if d, ok := f.Cache.Ref(refKey(metaURL)); ok {
			want = d
			p, hit = f.Cache.Path(d)
		}
	}
	remote := isRemote(metaURL)
	if !hit {
		if remote && f.Offline {
			return nil, fmt.Errorf("%s: %w: %s (%s) is not in the cache %s; run once online", what, ErrOffline, what, netauth.Redact(metaURL), f.Cache.Dir())
		}
		var allowed []cas.Digest
		if !want.IsZero() {
			allowed = []cas.Digest{want}
		}
		var d cas.Digest
		err := f.open(ctx, metaURL, func(r io.Reader) error {
			var err error
			d, p, err = f.Cache.PutAny(r, allowed)
			return err
		})
		var mm *cas.MismatchError
		if errors.As(err, &mm) {
			return nil, fmt.Errorf("%s: %w: the index %s gives %s, the file is %s", what, ErrHashMismatch, c.Source, want, mm.Got)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if want.IsZero() && remote {
			if err := f.Cache.SetRef(refKey(metaURL), d); err != nil {
				f.logf("warning: %v", err)
			}
		}
		want = d
	}
	if err := verifyIndexHashes(p, want, c.CoreMetadataHashes); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	fh, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer fh.Close()
	return readLimited(fh, what)
}

func readLimited(r io.Reader, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxMetadata+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if len(data) > maxMetadata {
		return nil, fmt.Errorf("read %s: larger than %d bytes", what, maxMetadata)
	}
	return data, nil
}
