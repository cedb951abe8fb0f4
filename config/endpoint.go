package config

import (
	"errors"
	"net"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkEndpoint accepts an absolute https URL. Bearer tokens travel to these hosts, so plain http is
// allowed only to the loopback interface (a local proxy or the test fake), and user info, queries
// and fragments, which the client would silently drop or mangle when joining paths, are refused.
// The result has no trailing slash so the client can append API paths.
func checkEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("is not a valid URL: use e.g. https://api.security.microsoft.com")
	}
	if u.User != nil {
		return "", errors.New("must not contain a user name or password")
	}
	shown := u.Redacted()
	switch {
	case u.Scheme == "" || u.Host == "":
		return "", errors.New("\"" + truncate(shown) + "\" is not an absolute URL: use e.g. https://api.security.microsoft.com")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return "", errors.New("\"" + truncate(shown) + "\" must use https (http is allowed only for localhost, 127.0.0.1 and ::1)")
	case u.Scheme != "https" && u.Scheme != "http":
		return "", errors.New("\"" + truncate(shown) + "\" must use https")
	case u.RawQuery != "" || u.ForceQuery:
		return "", errors.New("\"" + truncate(shown) + "\" must not have a query (?...): give the base URL only")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", errors.New("\"" + truncate(shown) + "\" must not have a fragment (#...): give the base URL only")
	}
	return strings.TrimRight(raw, "/"), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (d *decoder) endpoint(n *yaml.Node, path string) (string, bool) {
	v, ok := d.scalar(n, path, "a URL")
	if !ok {
		return "", false
	}
	u, err := checkEndpoint(v)
	if err != nil {
		d.errf(d.resolve(n), path, "%v", err)
		return "", false
	}
	return u, true
}
