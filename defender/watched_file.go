package defender

import (
	"crypto/sha256"
	"fmt"
	"os"
	"sync"
	"time"
)

// watchedFile is a credential file that may be replaced while the exporter
// runs (cert-manager, a Key Vault or external-secrets sync, a Kubernetes
// secret volume). Before each token request the file is stat'ed; when its
// modification time or size changed it is read and parsed again, so a
// rotated credential is used without a reload.
type watchedFile[T any] struct {
	path  string
	what  string // "certificate", "client secret file": starts error messages
	parse func([]byte) (T, error)
	// changed is told about each new value after the first, so that the
	// switch shows in the log.
	changed func(T)

	mu     sync.Mutex
	loaded bool
	stamp  fileStamp // of the content v was parsed from
	sum    [sha256.Size]byte
	v      T
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// load reads the file once; a bad file is an error here, when the client
// is built, so that --config.check and a reload catch it.
func (f *watchedFile[T]) load() error {
	_, err := f.refresh()
	return err
}

// refresh parses the file again if it changed since the last parse, and
// says whether it did. A file that changed but cannot be read or parsed is
// an error, tried again on the next call: a half-written file is retried, a
// wrong one stays visible. The previous value is not used meanwhile: a
// credential that was replaced is likely being revoked.
func (f *watchedFile[T]) refresh() (bool, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		return false, &assertionFileError{err: fmt.Errorf("%s: %w", f.what, err)}
	}
	stamp := fileStamp{mod: st.ModTime(), size: st.Size()}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.loaded && stamp == f.stamp {
		return false, nil
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return false, &assertionFileError{err: fmt.Errorf("%s: %w", f.what, err)}
	}
	// A file rewritten with the same content (a sync that rewrites on
	// every run) is not a rotation: the clients and their tokens stay.
	sum := sha256.Sum256(data)
	if f.loaded && sum == f.sum {
		f.stamp = stamp
		return false, nil
	}
	v, err := f.parse(data)
	if err != nil {
		return false, &assertionFileError{err: fmt.Errorf("%s %s: %w", f.what, f.path, err)}
	}
	first := !f.loaded
	f.loaded, f.stamp, f.sum, f.v = true, stamp, sum, v
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
