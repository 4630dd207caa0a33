package faultproxy

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echo starts a line echo server on loopback.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader) (time.Duration, error) {
	t.Helper()
	t0 := time.Now()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return 0, err
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := r.ReadString('\n')
	if err == nil && line != "ping\n" {
		t.Fatalf("echo %q", line)
	}
	return time.Since(t0), err
}

func TestLatencyStallClear(t *testing.T) {
	fp, err := Start(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	c, err := net.Dial("tcp", fp.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if d, err := roundTrip(t, c, r); err != nil || d > 200*time.Millisecond {
		t.Fatalf("clean round trip: %s %v", d, err)
	}
	if err := fp.Latency(40*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	if d, err := roundTrip(t, c, r); err != nil || d < 75*time.Millisecond {
		t.Fatalf("round trip with 40ms each way: %s %v", d, err)
	}
	fp.Clear()
	if err := fp.Stall(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d, err := roundTrip(t, c, r); err != nil || d < 250*time.Millisecond {
		t.Fatalf("round trip across a 300ms stall: %s %v (want delayed, not lost)", d, err)
	}
	// Clear ends a long stall early and delivers the held bytes.
	if err := fp.Stall(time.Minute); err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(100 * time.Millisecond); fp.Clear() }()
	if d, err := roundTrip(t, c, r); err != nil || d > 5*time.Second {
		t.Fatalf("round trip with the stall cleared: %s %v", d, err)
	}
}

func TestReset(t *testing.T) {
	fp, err := Start(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	if err := fp.Reset(0); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", fp.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := roundTrip(t, c, bufio.NewReader(c)); err == nil {
		t.Fatal("round trip through a reset proxy succeeded")
	}
}

func TestRefusesNonLoopbackUpstream(t *testing.T) {
	for _, up := range []string{"10.0.0.1:5432", "example.com:5432", "nohostport"} {
		if _, err := Start(up); err == nil {
			t.Errorf("Start(%q) accepted", up)
		}
	}
}

func TestRewriteURL(t *testing.T) {
	fp, err := Start(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	got, err := fp.RewriteURL("postgres://u:p@127.0.0.1:5432/db?sslmode=disable")
	if err != nil || got != "postgres://u:p@"+fp.Addr+"/db?sslmode=disable" {
		t.Fatalf("RewriteURL: %q %v", got, err)
	}
	if _, err := fp.RewriteURL("host=x"); err == nil {
		t.Fatal("RewriteURL of a keyword DSN accepted")
	}
}
