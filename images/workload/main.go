// k8s-img-workload: the small test workload `k8s-img verify` runs in pods.
// Standard library only, so it builds offline with no module downloads.
//
//	serve              HTTP on :8080 and UDP echo on :8081, both answer the pod's hostname;
//	                   TCP on :8082 counts what it receives (throughput), :8083 echoes (latency)
//	http URL           GET URL until it answers 200 (or -timeout), print the body
//	udp HOST:PORT      send a datagram until one comes back, print it
//	resolve NAME       look NAME up with the pod's resolver, print the addresses
//	throughput HOST    send to HOST:8082 for -duration, print what arrived per second
//	latency HOST       -count round trips of 64 bytes to HOST:8083, print percentiles
//	version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

var version = "dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: k8s-img-workload serve|http URL|udp HOST:PORT|resolve NAME|version")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	timeout := fs.Duration("timeout", 30*time.Second, "how long to retry")
	duration := fs.Duration("duration", 10*time.Second, "throughput: how long to send")
	count := fs.Int("count", 2000, "latency: how many round trips")
	_ = fs.Parse(os.Args[2:])
	arg := fs.Arg(0)
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve()
	case "http":
		err = retry(*timeout, func() (string, error) { return httpGet(arg) })
	case "udp":
		err = retry(*timeout, func() (string, error) { return udpPing(arg) })
	case "resolve":
		err = retry(*timeout, func() (string, error) { return resolve(arg) })
	case "throughput":
		err = throughput(net.JoinHostPort(arg, "8082"), *duration)
	case "latency":
		err = latency(net.JoinHostPort(arg, "8083"), *count)
	case "version":
		fmt.Printf("k8s-img-workload %s\n", version)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func serve() error {
	host, _ := os.Hostname()
	go func() {
		pc, err := net.ListenPacket("udp", ":8081")
		if err != nil {
			fmt.Fprintln(os.Stderr, "udp:", err)
			os.Exit(1)
		}
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err == nil && n > 0 {
				_, _ = pc.WriteTo([]byte(host), addr)
			}
		}
	}()
	go serveTCP(":8082", countBytes)
	go serveTCP(":8083", echo)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, host) })
	fmt.Printf("serving %s on :8080/tcp, :8081/udp, :8082/tcp (sink), :8083/tcp (echo)\n", host)
	return http.ListenAndServe(":8080", nil)
}

func retry(timeout time.Duration, f func() (string, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		out, err := f()
		if err == nil {
			fmt.Println(out)
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return strings.TrimSpace(string(body)), nil
}

func udpPing(addr string) (string, error) {
	conn, err := net.DialTimeout("udp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("ping")); err != nil {
		return "", err
	}
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func resolve(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		return "", err
	}
	return strings.Join(addrs, " "), nil
}
