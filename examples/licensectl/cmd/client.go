package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxAnswer bounds what licensectl reads of one answer: a page of a
// thousand licences fits many times over.
const maxAnswer = 32 << 20

// client calls the control plane's API.
type client struct {
	base    *url.URL
	key     string
	timeout time.Duration
	hc      *http.Client
}

func newClient(base *url.URL, key string, timeout time.Duration) *client {
	return &client{base: base, key: key, timeout: timeout, hc: &http.Client{
		Timeout: timeout,
		// An answer that redirects is not the API's; following it could carry
		// the request somewhere the user did not name.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// parseBaseURL checks --url: http or https, a host, no query or fragment.
func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err == nil && u.User != nil {
		// Say nothing of the text: what is before the @ may be a secret.
		return nil, usagef("--url must not hold a user or password; give the API key with --api-key")
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, usagef("--url %q: want http:// or https:// with a host, no query or fragment", clean(s, 80))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// endpoint is the URL of an API path such as "/licenses/lic_1/revoke",
// whose variable segments the caller escaped with [seg].
func (c *client) endpoint(path string, query url.Values) string {
	u := c.base.String() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// seg escapes one path segment taken from the command line.
func seg(s string) string { return url.PathEscape(s) }

// call sends one request and returns the body of a 2xx answer, which is
// the API's JSON. body, when not nil, is sent as JSON (a json.RawMessage
// as is). An error answer becomes an *APIError; anything that is not the
// API's answer wraps ErrNotAPI; a failure to connect or a timeout wraps
// ErrConnection.
func (c *client) call(ctx context.Context, method, path string, query url.Values, body any, hdr http.Header) ([]byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		data, ok := body.(json.RawMessage)
		if !ok {
			var err error
			if data, err = json.Marshal(body); err != nil {
				return nil, nil, fmt.Errorf("licensectl: encoding the request: %w", err)
			}
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, query), rd)
	if err != nil {
		return nil, nil, fmt.Errorf("licensectl: building the request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "licensectl")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, c.transportError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, nil, c.transportError(err)
	}
	if len(data) > maxAnswer {
		return nil, nil, fmt.Errorf("%w: the answer is over %d bytes", ErrNotAPI, maxAnswer)
	}
	return c.answer(resp, data)
}

// answer reads a complete answer.
func (c *client) answer(resp *http.Response, data []byte) ([]byte, http.Header, error) {
	isJSON := false
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt == "application/json" {
		isJSON = json.Valid(data)
	}
	where := c.base.Redacted()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if !isJSON {
			return nil, nil, fmt.Errorf("%w: %s answered %d with %s; is --url the control plane?",
				ErrNotAPI, where, resp.StatusCode, describeBody(resp.Header.Get("Content-Type"), data))
		}
		return data, resp.Header, nil
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, nil, fmt.Errorf("%w: %s answered %d, a redirect to %q; give that address as --url",
			ErrNotAPI, where, resp.StatusCode, clean(resp.Header.Get("Location"), 120))
	}
	var env struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if !isJSON || json.Unmarshal(data, &env) != nil || env.Error == nil || env.Error.Code == "" {
		return nil, nil, fmt.Errorf("%w: %s answered %d with %s; is --url the control plane?",
			ErrNotAPI, where, resp.StatusCode, describeBody(resp.Header.Get("Content-Type"), data))
	}
	return nil, nil, &APIError{Status: resp.StatusCode, Code: clean(env.Error.Code, 40),
		Message: clean(env.Error.Message, 300), RetryAfter: clean(resp.Header.Get("Retry-After"), 40)}
}

// describeBody says what an answer that is not the API's looks like,
// without echoing more than a short, cleaned start of it.
func describeBody(contentType string, data []byte) string {
	ct := "no Content-Type"
	if contentType != "" {
		ct = clean(contentType, 60)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return ct + " and an empty body"
	}
	return fmt.Sprintf("%s: %q", ct, clean(string(bytes.TrimSpace(data)), 60))
}

// transportError describes a failure to get an answer. It names the
// server, never the request's headers.
func (c *client) transportError(err error) error {
	where := c.base.Redacted()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: no answer from %s within %s (see --timeout)", ErrConnection, where, c.timeout)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: interrupted", ErrConnection)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%w at %s: %s", ErrConnection, where, clean(err.Error(), 200))
}
