package serverapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/internal/serverapp"
)

const (
	adminSecret = "test-admin-secret-0123456789"
	issuer      = "acme"
)

// options are a server on a loopback port over a SQLite file in dir.
func options(dir string) serverapp.Options {
	return serverapp.Options{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "lk.db"), Issuer: issuer, LogFormat: "text"}
}

// running is an App served by Run in a goroutine.
type running struct {
	*serverapp.App
	client *http.Client
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start builds the App and runs it; stop (also at cleanup) shuts it down.
func start(t *testing.T, o serverapp.Options) *running {
	t.Helper()
	app, err := serverapp.New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{App: app, cancel: cancel, done: make(chan error, 1),
		client: &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}}
	go func() { r.done <- app.Run(ctx) }()
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

// stop cancels Run's context, as SIGTERM does, and waits for it.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
		r.client.CloseIdleConnections()
	})
	return r.err
}

// call sends a JSON request and decodes a JSON answer into a map.
func call(t *testing.T, c *http.Client, method, url, key string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, url, err, data)
		}
	}
	return resp.StatusCode, out
}

// licence is what a test keeps of an issued licence.
type licence struct{ id, primary string }

func issue(t *testing.T, c *http.Client, base, key, tenant string) licence {
	t.Helper()
	code, out := call(t, c, "POST", base+"/licenses", key, map[string]any{"tenant_id": tenant, "plan": "yearly"})
	if code != http.StatusCreated {
		t.Fatalf("POST /licenses: %d %v", code, out)
	}
	l := out["license"].(map[string]any)
	return licence{id: l["id"].(string), primary: l["primary"].(string)}
}
