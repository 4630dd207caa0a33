package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/collectors"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Proxy is a running fault proxy. Its methods are safe for concurrent use.
type Proxy struct {
	// Addr is the proxy's listen address (127.0.0.1:PORT).
	Addr string
	// Upstream is the address the proxy forwards to.
	Upstream string

	mu    sync.Mutex
	proxy *toxiproxy.Proxy
	seq   int
}

// Start listens on a free loopback port and forwards every connection to
// upstream, which must be a loopback host:port.
func Start(upstream string) (*Proxy, error) {
	host, _, err := net.SplitHostPort(upstream)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: upstream %q: want host:port: %w", upstream, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("faultproxy: upstream %q is not a loopback address: faults are injected on this machine only", upstream)
	}
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	srv.Metrics.ProxyMetrics = collectors.NewProxyMetricCollectors()
	p := toxiproxy.NewProxy(srv, "faultproxy", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("faultproxy: start proxy to %s: %w", upstream, err)
	}
	return &Proxy{Addr: p.Listen, Upstream: upstream, proxy: p}, nil
}

// RewriteURL returns a PostgreSQL URL whose host:port is the proxy's.
func (p *Proxy) RewriteURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", errors.New("faultproxy: RewriteURL: want a postgres://host:port/db URL")
	}
	u.Host = p.Addr
	return u.String(), nil
}

// Latency delays every chunk in both directions by d ± jitter.
func (p *Proxy) Latency(d, jitter time.Duration) error {
	return p.both("latency", fmt.Sprintf(`{"latency":%d,"jitter":%d}`, d.Milliseconds(), jitter.Milliseconds()))
}

// Bandwidth limits each direction of each connection to kbps kilobytes per second.
func (p *Proxy) Bandwidth(kbps int64) error {
	return p.both("bandwidth", fmt.Sprintf(`{"rate":%d}`, kbps))
}

// Reset resets (TCP RST) every connection that sends data, after timeout;
// new connections are reset as soon as they send.
func (p *Proxy) Reset(timeout time.Duration) error {
	return p.add("reset_peer", "upstream", fmt.Sprintf(`{"timeout":%d}`, timeout.Milliseconds()))
}

// Stall stops every byte in both directions for d from now; held bytes are
// delivered when the stall ends, none is dropped. Clear ends it early.
func (p *Proxy) Stall(d time.Duration) error {
	return p.both(stallType, fmt.Sprintf(`{"until_unix_nano":%d}`, time.Now().Add(d).UnixNano()))
}

// Clear removes every fault; held bytes are delivered.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.proxy.Toxics.ResetToxics(contextBackground())
}

// Close stops the proxy and closes every proxied connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.proxy.Stop()
}

func (p *Proxy) both(typ, attrs string) error {
	if err := p.add(typ, "upstream", attrs); err != nil {
		return err
	}
	return p.add(typ, "downstream", attrs)
}

func (p *Proxy) add(typ, stream, attrs string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	body := fmt.Sprintf(`{"name":"%s_%s_%d","type":%q,"stream":%q,"toxicity":1,"attributes":%s}`,
		typ, stream, p.seq, typ, stream, attrs)
	if _, err := p.proxy.Toxics.AddToxicJson(strings.NewReader(body)); err != nil {
		return fmt.Errorf("faultproxy: add %s toxic (%s): %w", typ, stream, err)
	}
	return nil
}

const stallType = "poolpilot_stall"

// stallToxic holds every chunk until UntilUnixNano, then forwards it.
type stallToxic struct {
	UntilUnixNano int64 `json:"until_unix_nano"`
}

func (t *stallToxic) Pipe(stub *toxics.ToxicStub) {
	until := time.Unix(0, t.UntilUnixNano)
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			if d := time.Until(until); d > 0 {
				timer := time.NewTimer(d)
				select {
				case <-timer.C:
				case <-stub.Interrupt:
					timer.Stop()
					stub.Output <- c // never drop data
					return
				}
			}
			stub.Output <- c
		}
	}
}

func init() {
	toxics.Register(stallType, new(stallToxic))
}
