package heartbeat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/licensekit/licensekit/heartbeat"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// call is one request the fake control plane received.
type call struct {
	At     time.Time
	Method string
	Path   string // escaped path
	Op     string // last path segment
	Header http.Header
	Body   map[string]string
}

// reply is what the fake answers. With hang set it blocks until the
// request's context is done; with err set it fails like a broken network.
type reply struct {
	status int
	header map[string]string
	body   string
	hang   bool
	err    error
}

// fakeCP is an in-memory control plane: an http.RoundTripper, so tests
// (and synctest bubbles) need no socket. answer is called for each request
// with its index; nil answers 200 with a healthy lease.
type fakeCP struct {
	answer func(n int, c call) reply

	mu     sync.Mutex
	calls  []call
	bodies []*trackBody
}

func (f *fakeCP) RoundTrip(req *http.Request) (*http.Response, error) {
	c := call{At: time.Now(), Method: req.Method, Path: req.URL.EscapedPath(), Header: req.Header.Clone()}
	if i := strings.LastIndexByte(c.Path, '/'); i >= 0 {
		c.Op = c.Path[i+1:]
	}
	if req.Body != nil {
		data, _ := io.ReadAll(req.Body)
		req.Body.Close()
		_ = json.Unmarshal(data, &c.Body)
	}
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, c)
	f.mu.Unlock()

	r := ok(3600)
	if f.answer != nil {
		r = f.answer(n, c)
	}
	if r.hang {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range r.header {
		h.Set(k, v)
	}
	b := &trackBody{r: strings.NewReader(r.body), size: len(r.body)}
	f.mu.Lock()
	f.bodies = append(f.bodies, b)
	f.mu.Unlock()
	return &http.Response{StatusCode: r.status, Header: h, Body: b, Request: req}, nil
}

func (f *fakeCP) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeCP) Bodies() []*trackBody {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*trackBody(nil), f.bodies...)
}

// trackBody records how much of an answer was read and whether it was closed.
type trackBody struct {
	r      io.Reader
	size   int
	mu     sync.Mutex
	read   int
	closed bool
}

func (b *trackBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.mu.Lock()
	b.read += n
	b.mu.Unlock()
	return n, err
}

func (b *trackBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

func (b *trackBody) state() (read int, closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.read, b.closed
}

// ok is a healthy answer asking for the next beat in next seconds.
func ok(next int) reply {
	return reply{status: 200, body: fmt.Sprintf(
		`{"status":"active","lease":"eyJ.lease.sig","next_heartbeat_s":%d,"server_time":%q}`,
		next, time.Now().UTC().Format(time.RFC3339))}
}

// fail is an error answer with the control plane's envelope.
func fail(status int, code string, header ...string) reply {
	r := reply{status: status, body: fmt.Sprintf(`{"error":{"code":%q,"message":"nope"}}`, code), header: map[string]string{}}
	for i := 0; i+1 < len(header); i += 2 {
		r.header[header[i]] = header[i+1]
	}
	return r
}

// newClient returns a Client wired to cp, following no redirects.
func newClient(cp *fakeCP) *heartbeat.Client {
	return &heartbeat.Client{
		BaseURL: "https://cp.example/api/",
		HTTPClient: &http.Client{
			Transport:     cp,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

var req1 = heartbeat.Request{LicenseID: "lic_1", Token: "eyJhbGciOiJFZERTQSJ9.payload.signature", Fingerprint: "fp1", IdempotencyKey: "idem-1"}

// bigJSON is a syntactically valid success body larger than any limit.
func bigJSON(n int) string {
	var b bytes.Buffer
	b.WriteString(`{"status":"active","lease":"`)
	b.WriteString(strings.Repeat("A", n))
	b.WriteString(`"}`)
	return b.String()
}
