// k8s-img-api-lb: the node-local endpoint of the Kubernetes API (RKE's nginx-proxy,
// kubespray's localhost load balancer). A TCP proxy on 127.0.0.1 that spreads
// connections over every control plane's apiserver and keeps only the ready ones in
// rotation. TLS passes through untouched: clients verify the apiserver themselves.
// Standard library only, so it builds offline with no module downloads.
//
//	k8s-img-api-lb -listen 127.0.0.1:6444 -health 127.0.0.1:6445 \
//	  -backend 10.0.0.1:6443 -backend 10.0.0.2:6443 [-ca ca.crt]
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var version = "dev"

type backend struct {
	addr    string
	healthy atomic.Bool
	active  atomic.Int64
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
}

func (b *backend) track(cs ...net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range cs {
		b.conns[c] = struct{}{}
	}
}

func (b *backend) untrack(cs ...net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range cs {
		delete(b.conns, c)
	}
}

// closeAll ends every connection through b: clients reconnect at once (to a ready
// apiserver) instead of waiting for their own timeouts on a dead peer.
func (b *backend) closeAll() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.conns {
		c.Close()
	}
	n := len(b.conns) / 2
	b.conns = map[net.Conn]struct{}{}
	return n
}

type balancer struct {
	backends    []*backend
	next        atomic.Uint64
	dialTimeout time.Duration
}

// order: ready backends first, fewest open connections first, ties taken in turn.
// Backends not (yet) ready stay at the end: when none is ready (all starting), they
// are still tried rather than refusing everyone.
func (lb *balancer) order() []*backend {
	n := len(lb.backends)
	start := int(lb.next.Add(1) % uint64(n))
	list := make([]*backend, n)
	for i := range list {
		list[i] = lb.backends[(start+i)%n]
	}
	sort.SliceStable(list, func(i, j int) bool {
		hi, hj := list[i].healthy.Load(), list[j].healthy.Load()
		if hi != hj {
			return hi
		}
		return list[i].active.Load() < list[j].active.Load()
	})
	return list
}

func (lb *balancer) serve(client net.Conn) {
	defer client.Close()
	for _, b := range lb.order() {
		up, err := net.DialTimeout("tcp", b.addr, lb.dialTimeout)
		if err != nil {
			if b.healthy.Load() {
				log.Printf("dial %s: %v (trying the next control plane)", b.addr, err)
			}
			continue
		}
		b.active.Add(1)
		b.track(client, up)
		pipe(client, up)
		b.untrack(client, up)
		b.active.Add(-1)
		up.Close()
		return
	}
	log.Printf("no control plane answered for %s", client.RemoteAddr())
}

// pipe copies both ways until both directions are done, passing half-closes on.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go copyHalf(a, b)
	go copyHalf(b, a)
	<-done
	<-done
}

// watch probes /readyz of one apiserver; `fall` failures in a row take it out of
// rotation (and close its connections), one success puts it back.
func (lb *balancer) watch(b *backend, client *http.Client, interval time.Duration, fall int) {
	failures := 0
	for {
		err := probe(client, "https://"+b.addr+"/readyz")
		switch {
		case err == nil:
			failures = 0
			if !b.healthy.Swap(true) {
				log.Printf("%s is ready: in rotation", b.addr)
			}
		default:
			failures++
			if failures >= fall && b.healthy.Swap(false) {
				log.Printf("%s is not ready (%v): out of rotation, %d connections closed", b.addr, err, b.closeAll())
			}
		}
		time.Sleep(interval)
	}
}

func probe(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// healthz: 200 while at least one control plane is ready, 503 otherwise; the body
// lists which ones are.
func (lb *balancer) healthz(w http.ResponseWriter, _ *http.Request) {
	var ready, all []string
	for _, b := range lb.backends {
		all = append(all, b.addr)
		if b.healthy.Load() {
			ready = append(ready, b.addr)
		}
	}
	if len(ready) == 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintf(w, "%d/%d control planes ready: %s\n", len(ready), len(all), strings.Join(ready, " "))
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var backends listFlag
	listen := flag.String("listen", "127.0.0.1:6444", "where clients connect")
	health := flag.String("health", "127.0.0.1:6445", "where /healthz is served")
	ca := flag.String("ca", "", "CA that signed the apiservers' certificates (empty: not verified, simple mode)")
	interval := flag.Duration("interval", time.Second, "time between two checks of an apiserver")
	timeout := flag.Duration("timeout", time.Second, "timeout of a check and of a connection attempt")
	fall := flag.Int("fall", 2, "failed checks in a row that take an apiserver out of rotation")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Var(&backends, "backend", "an apiserver, HOST:PORT (repeat for each control plane)")
	flag.Parse()
	if *showVersion {
		fmt.Printf("k8s-img-api-lb %s\n", version)
		return
	}
	if len(backends) == 0 {
		log.Fatal("no -backend given")
	}
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	tlsConfig := &tls.Config{InsecureSkipVerify: *ca == ""}
	if *ca != "" {
		pem, err := os.ReadFile(*ca)
		if err != nil {
			log.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			log.Fatalf("%s holds no certificate", *ca)
		}
		tlsConfig.RootCAs = pool
	}
	// A new connection per check: a dead peer must fail the check, not a pooled socket.
	checker := &http.Client{Timeout: *timeout, Transport: &http.Transport{TLSClientConfig: tlsConfig, DisableKeepAlives: true}}

	lb := &balancer{dialTimeout: *timeout}
	for _, addr := range backends {
		lb.backends = append(lb.backends, &backend{addr: addr, conns: map[net.Conn]struct{}{}})
	}
	for _, b := range lb.backends {
		go lb.watch(b, checker, *interval, *fall)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", lb.healthz)
	hs := &http.Server{Addr: *health, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { log.Fatal(hs.ListenAndServe()) }()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		os.Exit(0)
	}()
	log.Printf("k8s-img-api-lb %s: %s → %s", version, *listen, strings.Join(backends, " "))
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			log.Printf("accept: %v", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		go lb.serve(c)
	}
}
