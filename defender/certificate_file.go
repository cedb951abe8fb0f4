package defender

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// certificateFile is a client certificate read from a file that may be
// replaced while the exporter runs (cert-manager, a Key Vault sync, a
// Kubernetes secret volume). Before each token request the file is
// stat'ed; when its modification time or size changed it is parsed again,
// so a rotated certificate is used without a reload and its new expiry is
// exported.
type certificateFile struct {
	path, password string
	// rotated is told about each new certificate after the first, so that
	// the switch shows in the log.
	rotated func(notAfter time.Time)

	mu       sync.Mutex
	loaded   bool
	stamp    fileStamp // of the content cred was made from
	cred     confidential.Credential
	notAfter time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// loadCertificateFile reads the file once; a bad file is an error here,
// when the client is built, so that --config.check and a reload catch it.
func loadCertificateFile(path, password string) (*certificateFile, error) {
	f := &certificateFile{path: path, password: password}
	if _, err := f.refresh(); err != nil {
		return nil, err
	}
	return f, nil
}

// refresh parses the file again if it changed since the last parse, and
// says whether it did. A file that changed but cannot be read or parsed
// is an error, and is tried again on the next call: a half-written file is
// retried, a wrong one stays visible. The last good credential is kept but
// not used, since a certificate that was replaced is likely being revoked.
func (f *certificateFile) refresh() (bool, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		return false, &assertionFileError{err: fmt.Errorf("certificate: %w", err)}
	}
	stamp := fileStamp{mod: st.ModTime(), size: st.Size()}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.loaded && stamp == f.stamp {
		return false, nil
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return false, &assertionFileError{err: fmt.Errorf("certificate: %w", err)}
	}
	certs, key, leaf, err := parseCertificate(data, f.password)
	if err != nil {
		return false, &assertionFileError{err: fmt.Errorf("certificate %s: %w", f.path, err)}
	}
	cred, err := confidential.NewCredFromCert(certs, key)
	if err != nil {
		return false, &assertionFileError{err: fmt.Errorf("certificate %s: %w", f.path, err)}
	}
	first := !f.loaded
	f.loaded, f.stamp, f.cred, f.notAfter = true, stamp, cred, leaf.NotAfter
	if !first && f.rotated != nil {
		f.rotated(leaf.NotAfter)
	}
	return true, nil
}

func (f *certificateFile) credential() confidential.Credential {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cred
}

func (f *certificateFile) expiry() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.notAfter
}
