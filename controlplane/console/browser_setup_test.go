package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
)

// The browser tests drive the console in a real headless Chromium, through
// the DevTools protocol (chromedp): what a person sees and clicks, with the
// browser's own cookie, CSRF, CSP and download handling.

const adminSecret = "browser-admin-secret-0123456789"

// chromium finds the browser: LICENSEKIT_CHROMIUM, else one on the PATH.
// Without one the test skips, saying how to run it, unless
// LICENSEKIT_REQUIRE_BROWSER=1 (CI) makes that a failure.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LICENSEKIT_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("LICENSEKIT_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found for the console's browser tests: install it (apt-get install chromium) " +
		"or set LICENSEKIT_CHROMIUM=/path/to/chromium"
	if os.Getenv("LICENSEKIT_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + " (LICENSEKIT_REQUIRE_BROWSER=1)")
	}
	t.Skip(msg)
	return ""
}

// settable is a clock the seeding moves back and forth.
type settable struct {
	mu sync.Mutex
	d  time.Duration // offset from the wall clock
}

func (c *settable) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.d)
}

func (c *settable) set(d time.Duration) {
	c.mu.Lock()
	c.d = d
	c.mu.Unlock()
}

// env is one control plane on a loopback port and one browser tab.
type env struct {
	t     *testing.T
	ctx   context.Context
	srv   *controlplane.Server
	ts    *httptest.Server
	clock *settable
	dl    string // the download directory
}

func newEnv(t *testing.T) *env {
	path := chromium(t)
	e := &env{t: t, clock: &settable{}, dl: t.TempDir()}
	srv, err := controlplane.New(context.Background(), controlplane.Config{
		Store: memstore.New(), Issuer: "acme", AdminKey: adminSecret, Clock: e.clock.Now,
		SecretKey:      bytes.Repeat([]byte{9}, 32),
		AdminRateLimit: controlplane.RateLimit{PerSecond: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv)
	t.Cleanup(func() {
		e.ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 50*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	e.ctx = ctx
	return e
}

// do runs browser actions as one step of the scenario.
func (e *env) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	if err := chromedp.Do(e.ctx, actions...); err != nil {
		e.t.Fatalf("%s: %v", step, err)
	}
}

// open loads a console page and returns its HTTP status.
func (e *env) open(path string) int64 {
	e.t.Helper()
	resp, err := chromedp.Run(e.ctx, chromedp.NavigateResponse(e.ts.URL+path))
	if err != nil {
		e.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// press clicks what sel finds and waits for the page it loads.
func (e *env) press(step, sel string) *network.Response {
	e.t.Helper()
	resp, err := chromedp.RunResponse(e.ctx, chromedp.Click(sel))
	if err != nil {
		e.t.Fatalf("%s: %v", step, err)
	}
	return resp
}

// text is the text of the first element sel finds.
func (e *env) text(sel string) string {
	e.t.Helper()
	s, err := chromedp.Run(e.ctx, chromedp.Text(sel))
	if err != nil {
		e.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (e *env) value(sel string) string {
	e.t.Helper()
	s, err := chromedp.Run(e.ctx, chromedp.Value(sel))
	if err != nil {
		e.t.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

// eval runs a JavaScript expression in the page.
func eval[T any](e *env, expr string) T {
	e.t.Helper()
	v, err := chromedp.Run(e.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		e.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// bodyText is the visible text of the page.
func (e *env) bodyText() string { return eval[string](e, "document.body.innerText") }

// button and link select by their visible name, as a person finds them.
func button(name string) string { return `//button[normalize-space()="` + name + `"]` }
func link(name string) string   { return `//a[normalize-space()="` + name + `"]` }

// api calls the control plane's API with a key, for seeding and checks.
func (e *env) api(method, path, key string, body any) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		e.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return out
}

// shots is where screenshots go (LICENSEKIT_SCREENSHOTS, a path from the
// module root), or "" when none are taken.
func shots(t *testing.T) string {
	dir := os.Getenv("LICENSEKIT_SCREENSHOTS")
	if dir == "" || filepath.IsAbs(dir) {
		return dir
	}
	root, err := filepath.Abs("../..") // this package is controlplane/console
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, dir)
}

// shot saves a full-page screenshot of the current page as name.png.
func (e *env) shot(dir, name string) {
	e.t.Helper()
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	png, err := chromedp.Run(e.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		e.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func must(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
