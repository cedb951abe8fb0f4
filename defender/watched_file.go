package defender

import (
	"crypto/sha256"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// watchedFile is a credential held in files that may be replaced while
// the exporter runs (cert-manager, a Key Vault or external-secrets sync, a
// Kubernetes secret volume). Before each token request the files are
// stat'ed; when a modification time or size changed they are read and
// parsed again, so a rotated credential is used without a reload. The
// files are read together: a PKCS#12 file and its password file rotated
// at once are parsed as a pair.
type watchedFile[T any] struct {
	paths []string // the first names the credential in messages
	what  string   // "certificate", "client secret file": starts error messages
	parse func(contents [][]byte) (T, error)
	// changed is told about each new value after the first, so that the
	// switch shows in the log.
	changed func(T)

	mu     sync.Mutex
	loaded bool
	stamps []fileStamp // of the content v was parsed from
	sum    [sha256.Size]byte
	v      T
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// load reads the files once; a bad file is an error here, when the client
// is built, so that --config.check and a reload catch it.
func (f *watchedFile[T]) load() error {
	_, err := f.refresh()
	return err
}

// refresh parses the files again if one changed since the last parse, and
// says whether the credential did. A file that changed but cannot be read
// or parsed is an error, tried again on the next call: a half-written file
// is retried, a wrong one stays visible. The previous value is not used
// meanwhile: a credential that was replaced is likely being revoked.
func (f *watchedFile[T]) refresh() (bool, error) {
	stamps := make([]fileStamp, len(f.paths))
	for i, p := range f.paths {
		st, err := os.Stat(p)
		if err != nil {
			return false, &assertionFileError{err: fmt.Errorf("%s: %w", f.what, err)}
		}
		stamps[i] = fileStamp{mod: st.ModTime(), size: st.Size()}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.loaded && slices.Equal(stamps, f.stamps) {
		return false, nil
	}
	contents := make([][]byte, len(f.paths))
	h := sha256.New()
	for i, p := range f.paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return false, &assertionFileError{err: fmt.Errorf("%s: %w", f.what, err)}
		}
		contents[i] = data
		fmt.Fprintf(h, "%d:", len(data))
		h.Write(data)
	}
	// Files rewritten with the same content (a sync that rewrites on every
	// run) are not a rotation: the clients and their tokens stay.
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	if f.loaded && sum == f.sum {
		f.stamps = stamps
		return false, nil
	}
	v, err := f.parse(contents)
	if err != nil {
		return false, &assertionFileError{err: fmt.Errorf("%s %s: %w", f.what, f.paths[0], err)}
	}
	first := !f.loaded
	f.loaded, f.stamps, f.sum, f.v = true, stamps, sum, v
	if !first && f.changed != nil {
		f.changed(v)
	}
	return true, nil
}

func (f *watchedFile[T]) current() T {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.v
}
