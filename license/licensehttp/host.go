package licensehttp

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// WithHosts names the host names the API answers to besides this
// machine's addresses (see [NewHandler]): the name a reverse proxy
// forwards, or the one the product's operators type. Names compare
// without case, a port or a trailing dot; a name allows itself only, not
// its subdomains.
func WithHosts(names ...string) Option {
	return func(h *Handler) {
		for _, n := range names {
			if n = normalHost(n); n != "" {
				h.hosts = append(h.hosts, n)
			}
		}
	}
}

// hostAllowed reports whether a request's Host names this product: an IP
// address (a browser reaches one only by typing it, so no other site's
// page can be rebound to it), localhost or a name under .localhost
// (which browsers resolve to loopback themselves), a name given to
// [WithHosts], or no Host at all (HTTP/1.0, which no browser sends).
//
// The check is what stops DNS rebinding: a page on a name its owner
// points at 127.0.0.1 is same-origin with the product as far as the
// browser can tell, so fetch metadata and Origin let its requests
// through; only the Host header, which still carries the page's name,
// shows that they are not meant for this product.
func (h *Handler) hostAllowed(r *http.Request) bool {
	host := normalHost(r.Host)
	if host == "" && r.Host == "" {
		return true
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return true
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	return contains(h.hosts, host)
}

// normalHost is host without its port and trailing dot, in lower case.
func normalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
}

func misdirected(w http.ResponseWriter) {
	writeError(w, http.StatusMisdirectedRequest, "misdirected",
		"This product does not answer to that host name; reach it by its address or localhost, or allow the name (licensehttp.WithHosts)", "")
}
