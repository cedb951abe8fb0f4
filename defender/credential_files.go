package defender

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// fileCredential is what a watched credential file yields: the MSAL
// credential, and the certificate's expiry for certificates.
type fileCredential struct {
	cred     confidential.Credential
	notAfter time.Time
}

// certificateFile watches a PEM or PKCS#12 client certificate.
func certificateFile(path, password string, logger log.Logger) *watchedFile[fileCredential] {
	return &watchedFile[fileCredential]{
		path: path,
		what: "certificate",
		parse: func(data []byte) (fileCredential, error) {
			certs, key, leaf, err := parseCertificate(data, password)
			if err != nil {
				return fileCredential{}, err
			}
			cred, err := confidential.NewCredFromCert(certs, key)
			if err != nil {
				return fileCredential{}, err
			}
			return fileCredential{cred: cred, notAfter: leaf.NotAfter}, nil
		},
		changed: func(fc fileCredential) {
			level.Info(logger).Log("msg", "client certificate file changed; signing in with the new certificate from now on",
				"file", path, "not_after", fc.notAfter.UTC().Format(time.RFC3339))
		},
	}
}

// clientSecretFile watches a file holding the client secret, read as the
// config package reads it at load time (trailing line breaks dropped).
// Every secret it yields joins secrets, so that it is scrubbed from
// messages from then on, also after the next rotation.
func clientSecretFile(path string, secrets *secretSet, logger log.Logger) *watchedFile[fileCredential] {
	return &watchedFile[fileCredential]{
		path: path,
		what: "client secret file",
		parse: func(data []byte) (fileCredential, error) {
			secret := strings.TrimRight(string(data), "\r\n")
			if secret == "" {
				return fileCredential{}, errors.New("is empty: the file must hold the app's client secret")
			}
			secrets.add(secret)
			cred, err := confidential.NewCredFromSecret(secret)
			if err != nil {
				return fileCredential{}, errors.New("not a usable client secret")
			}
			return fileCredential{cred: cred}, nil
		},
		changed: func(fileCredential) {
			level.Info(logger).Log("msg", "client secret file changed; signing in with the new secret from now on", "file", path)
		},
	}
}

// secretSet holds the strings that must never appear in a message: the
// credential's own, and every secret read from a watched file since.
type secretSet struct {
	mu   sync.Mutex
	list []string
}

func newSecretSet(c Credential) *secretSet {
	s := &secretSet{}
	for _, v := range []string{c.ClientSecret, c.CertificatePassword} {
		s.add(v)
	}
	return s
}

func (s *secretSet) add(v string) {
	if len(v) < 4 { // scrubbing a 1-character "secret" would shred messages
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, have := range s.list {
		if have == v {
			return
		}
	}
	s.list = append(s.list, v)
}

// scrub replaces each secret by "<secret>".
func (s *secretSet) scrub(msg string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.list {
		msg = strings.ReplaceAll(msg, v, "<secret>")
	}
	return msg
}
