package heartbeat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/licensekit/licensekit/heartbeat"
)

// roundTripFunc turns a function into an in-memory http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// memoryControlPlane answers every device call with a fresh lease and asks
// for the next beat in nextSeconds.
func memoryControlPlane(nextSeconds string) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		op := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		body := `{"status":"active","lease":"eyJ.lease-from-` + op + `.sig","next_heartbeat_s":` + nextSeconds +
			`,"server_time":"2026-01-01T00:00:00Z"}`
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
	})}
}

func ExampleClient() {
	c := &heartbeat.Client{
		BaseURL:    "https://licensing.example.com",
		HTTPClient: memoryControlPlane("3600"),
	}
	req := heartbeat.Request{
		LicenseID:   "lic_123",
		Token:       "eyJ...licence-jws",
		Fingerprint: "fp-of-this-machine",
		// Persist the key with the licence state before sending.
		IdempotencyKey: heartbeat.NewIdempotencyKey(),
	}
	ctx := context.Background()

	resp, err := c.Activate(ctx, req)
	if err != nil {
		fmt.Println("activate:", err)
		return
	}
	fmt.Println("activated:", resp.Status, resp.Lease, "next beat in", resp.NextHeartbeat)

	resp, err = c.Heartbeat(ctx, req)
	switch {
	case heartbeat.IsDefinitive(err):
		fmt.Println("the control plane said no:", err)
	case err != nil:
		fmt.Println("offline, keep the current lease:", err)
	default:
		fmt.Println("beat:", resp.Status, resp.Lease)
	}
	// Output:
	// activated: active eyJ.lease-from-activate.sig next beat in 1h0m0s
	// beat: active eyJ.lease-from-heartbeat.sig
}

func ExampleLoop() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bound atomic.Bool
	beats := 0
	l := &heartbeat.Loop{
		// A hurried control plane (next beat in 10 ms) so the example runs fast.
		Client:      &heartbeat.Client{BaseURL: "https://licensing.example.com", HTTPClient: memoryControlPlane("0.01")},
		MinInterval: heartbeat.DefaultMinInterval / 3000,
		Request: func() heartbeat.Request {
			return heartbeat.Request{LicenseID: "lic_123", Token: "eyJ...", Fingerprint: "fp", IdempotencyKey: "persisted-key"}
		},
		Activate: func() bool { return !bound.Load() },
		Handle: func(r heartbeat.Result) {
			if r.Err != nil {
				fmt.Println(r.Op, "failed:", r.Err)
				return
			}
			// The manager verifies r.Response.Lease here, then stores it.
			fmt.Println(r.Op, r.Response.Status, "next in", r.Next)
			if r.Op == heartbeat.OpActivate {
				bound.Store(true)
			}
			if beats++; beats == 3 {
				cancel() // the manager's Close
			}
		},
	}
	err := l.Run(ctx) // blocks; the manager runs it on a goroutine it owns
	fmt.Println("stopped:", errors.Is(err, context.Canceled))
	// Output:
	// activate active next in 10ms
	// heartbeat active next in 10ms
	// heartbeat active next in 10ms
	// stopped: true
}
