package loadtest

import (
	"net"
	"sync"
	"sync/atomic"
)

// countingProxy forwards TCP connections from a loopback port to a
// PostgreSQL server and counts round trips: on each connection, bytes
// from the client that follow bytes from the server (or open it) start
// one. It is how the run counts what a call costs the database without a
// hook in the store.
type countingProxy struct {
	ln     net.Listener
	target string
	trips  atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(target string) (*countingProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *countingProxy) addr() string { return p.ln.Addr().String() }

func (p *countingProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		var mu sync.Mutex
		fromServer := true // the first bytes of the client start a round trip
		turn := func(client bool) {
			mu.Lock()
			if client && fromServer {
				p.trips.Add(1)
			}
			fromServer = !client
			mu.Unlock()
		}
		p.wg.Add(2)
		go p.pipe(s, c, func() { turn(true) })
		go p.pipe(c, s, func() { turn(false) })
	}
}

// pipe copies src to dst, calling seen before each chunk is passed on.
func (p *countingProxy) pipe(dst, src net.Conn, seen func()) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			seen()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// close stops accepting, cuts every connection and waits for the copies.
func (p *countingProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
