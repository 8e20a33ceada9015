package productapp

import (
	"net"
	"testing"
)

// An address such as ":8080" (all interfaces) serves the
// unauthenticated licence API to the whole network; the product says so
// when it starts on such an address, and only then.
func TestAttack2ReachableFromNetwork(t *testing.T) {
	for addr, want := range map[string]bool{
		"0.0.0.0:8080": true, "[::]:8080": true, "192.168.1.20:8080": true, "[2001:db8::1]:8080": true,
		"127.0.0.1:8080": false, "127.9.9.9:8080": false, "[::1]:8080": false,
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := reachableFromNetwork(a); got != want {
			t.Errorf("%s: reachable %v, want %v", addr, got, want)
		}
	}
	if !reachableFromNetwork(&net.UnixAddr{Name: "/run/x.sock", Net: "unix"}) {
		t.Error("an address of unknown kind must count as reachable")
	}
}

// With no --addr the sample product listens on loopback only.
func TestDefaultAddrIsLoopback(t *testing.T) {
	a, err := net.ResolveTCPAddr("tcp", DefaultAddr)
	if err != nil {
		t.Fatal(err)
	}
	if reachableFromNetwork(a) {
		t.Fatalf("default address %s is reachable from the network", DefaultAddr)
	}
}
