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

// certificateFile watches a PEM or PKCS#12 client certificate and, when
// its password is in a file too, that file with it: the two are replaced
// together when a PKCS#12 is rotated.
func certificateFile(path, password, passwordFile string, secrets *secretSet, logger log.Logger) *watchedFile[fileCredential] {
	paths := []string{path}
	if passwordFile != "" {
		paths = append(paths, passwordFile)
	}
	return &watchedFile[fileCredential]{
		paths: paths,
		what:  "certificate",
		parse: func(contents [][]byte) (fileCredential, error) {
			password := password
			if passwordFile != "" {
				password = secretFromFile(contents[1])
				secrets.add(password)
			}
			certs, key, leaf, err := parseCertificate(contents[0], password)
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
		paths: []string{path},
		what:  "client secret file",
		parse: func(contents [][]byte) (fileCredential, error) {
			secret := secretFromFile(contents[0])
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

// secretFromFile reads a secret as the config package does at load time:
// the file's content without its trailing line breaks.
func secretFromFile(b []byte) string {
	return strings.TrimRight(string(b), "\r\n")
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
