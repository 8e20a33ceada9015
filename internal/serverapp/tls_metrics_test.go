package serverapp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "licensekit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	o := options(dir)
	var pool *x509.CertPool
	o.TLSCert, o.TLSKey, pool = selfSigned(t, dir)
	r := start(t, o)
	if !strings.HasPrefix(r.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s", r.URL())
	}
	r.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	if code, out := call(t, r.client, "GET", r.URL()+"/healthz", "", nil); code != http.StatusOK {
		t.Fatalf("GET /healthz over TLS: %d %v", code, out)
	}
	l := issue(t, r.client, r.URL(), string(r.BootstrapSecret()), "ten_tls")
	if l.id == "" {
		t.Fatal("no licence id")
	}

	// Plain HTTP on the TLS port gets no answer of the API.
	plain := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer plain.CloseIdleConnections()
	resp, err := plain.Get("http://" + strings.TrimPrefix(r.URL(), "https://") + "/healthz")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("plain HTTP was served: %s", body)
		}
	}
}

func TestMetrics(t *testing.T) {
	o := options(t.TempDir())
	o.MetricsAddr = "127.0.0.1:0"
	r := start(t, o)
	for range 3 {
		if code, _ := call(t, r.client, "GET", r.URL()+"/healthz", "", nil); code != http.StatusOK {
			t.Fatalf("healthz %d", code)
		}
	}
	if code, _ := call(t, r.client, "GET", r.URL()+"/licenses/lic_none", string(r.BootstrapSecret()), nil); code != http.StatusNotFound {
		t.Fatalf("GET unknown licence: %d", code)
	}
	if code, _ := call(t, r.client, "GET", r.URL()+"/metrics", "", nil); code != http.StatusNotFound {
		t.Fatalf("the API serves /metrics: %d", code)
	}

	resp, err := r.client.Get(r.MetricsURL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	text := string(body)
	for _, want := range []string{
		`licensekit_http_requests_total{route="GET /healthz",status="200"} 3`,
		`licensekit_http_requests_total{route="GET /licenses/{id}",status="404"} 1`,
		`licensekit_http_requests_total{route="unmatched",status="404"} 1`,
		`licensekit_http_request_duration_seconds_count{route="GET /healthz",status="200"} 3`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, re := range []string{`(?m)^go_goroutines \d+`, `(?m)^go_memstats_heap_alloc_bytes \d`, `(?m)^process_open_fds \d`} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
	if code, _ := call(t, r.client, "GET", strings.TrimSuffix(r.MetricsURL(), "/metrics")+"/healthz", "", nil); code != http.StatusNotFound {
		t.Errorf("the metrics listener serves the API: %d", code)
	}
}
