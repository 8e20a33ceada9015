package postgres

import (
	"net"
	"sync"
	"sync/atomic"
)

// CountRoundTrips counts in n the round trips of every connection of the
// store: a write that follows a read (or opens the connection) starts one.
func CountRoundTrips(n *atomic.Int64) Option {
	return func(c *config) {
		c.wrap = func(conn net.Conn) net.Conn { return &countingConn{Conn: conn, n: n, read: true} }
	}
}

type countingConn struct {
	net.Conn
	n    *atomic.Int64
	mu   sync.Mutex
	read bool // the last I/O was a read
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.read {
		c.n.Add(1)
		c.read = false
	}
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		c.read = true
		c.mu.Unlock()
	}
	return n, err
}
