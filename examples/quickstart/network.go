package main

import (
	"errors"
	"net/http"
	"sync/atomic"
)

// errUnplugged is what the product's requests fail with while the network
// is down.
var errUnplugged = errors.New("network unplugged (the quickstart switched the product's transport off)")

// network is the product's HTTP transport with a switch: while down, every
// request fails as an unreachable host would, and the control plane keeps
// running unaware. Only the product's side of the wire is cut.
type network struct {
	base http.RoundTripper
	down atomic.Bool
}

// RoundTrip sends req unless the network is down.
func (n *network) RoundTrip(req *http.Request) (*http.Response, error) {
	if n.down.Load() {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errUnplugged
	}
	return n.base.RoundTrip(req)
}

// client is the product's HTTP client over n. Like the SDK's default, it
// does not follow redirects.
func (n *network) client() *http.Client {
	return &http.Client{
		Transport:     n,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
