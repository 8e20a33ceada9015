package controlplane

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The console does nothing itself: every screen reads, and every action
// changes, through the API's own route table. call builds the request the
// API would get, finds its row, checks the row's permission and the key's
// rate limit as the API does, and runs the row's handler with the session's
// principal. Validation, tenant scoping and audit are thus the API's, to
// the byte; the audit records the signed-in key as the actor.

// answer is what a handler wrote.
type answer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }
func (a *answer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}
func (a *answer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}

// findRoute returns the API route of method and path, and the path's
// wildcard values. Literal segments win over wildcards, as in ServeMux.
func (s *Server) findRoute(method, path string) (*route, map[string]string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var best *route
	var bestVals map[string]string
	bestLit := -1
	for i := range s.routes {
		rt := &s.routes[i]
		if rt.method != method {
			continue
		}
		pat := strings.Split(strings.TrimPrefix(rt.path, "/"), "/")
		if len(pat) != len(segs) {
			continue
		}
		vals, lit, ok := map[string]string{}, 0, true
		for j, p := range pat {
			switch {
			case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
				vals[p[1:len(p)-1]] = segs[j]
			case p == segs[j]:
				lit++
			default:
				ok = false
			}
		}
		if ok && lit > bestLit {
			best, bestVals, bestLit = rt, vals, lit
		}
	}
	return best, bestVals
}

// call runs one API call for the signed-in user and returns its answer, or
// the error the API would have answered. body, when not nil, is sent as
// JSON; header holds name, value pairs.
func (c *consoleUI) call(r *http.Request, u *consoleUser, method, path string, query url.Values, body any, header ...string) (*answer, error) {
	rt, vals := c.s.findRoute(method, path)
	if rt == nil || (rt.access != accessPerm && rt.access != accessAnyKey) {
		return nil, notFound("Route")
	}
	if rt.access == accessPerm && !u.p.perms.has(rt.perm) {
		return nil, errForbidden
	}
	if err := c.s.admin.allow(u.p.keyID, c.s.now()); err != nil {
		return nil, err
	}
	var rd io.Reader = http.NoBody
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(r.Context(), method, target, rd)
	if err != nil {
		return nil, notFound("Route")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for k, v := range vals {
		req.SetPathValue(k, v)
	}
	a := &answer{header: http.Header{}}
	if err := rt.handler(c.s, a, req, u.p); err != nil {
		return nil, err
	}
	return a, nil
}

// get runs a read and decodes its JSON answer into out.
func (c *consoleUI) get(r *http.Request, u *consoleUser, path string, query url.Values, out any) error {
	a, err := c.call(r, u, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	return a.decode(out)
}

// do runs a change and decodes its JSON answer into out (nil: ignored).
func (c *consoleUI) do(r *http.Request, u *consoleUser, method, path string, body, out any, header ...string) error {
	a, err := c.call(r, u, method, path, nil, body, header...)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return a.decode(out)
}

func (a *answer) decode(out any) error {
	if err := json.Unmarshal(a.body.Bytes(), out); err != nil {
		return &apiError{status: http.StatusInternalServerError, code: CodeInternal, message: "Internal error", cause: err}
	}
	return nil
}

// licensePath is the API path of a licence (and of its sub-resource), or
// "" when id is not an id.
func licensePath(id string, rest ...string) string {
	if !validID(id) {
		return ""
	}
	return "/licenses/" + id + strings.Join(rest, "")
}

func itoa(n int) string { return strconv.Itoa(n) }
