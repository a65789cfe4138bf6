// Pod-to-pod TCP throughput and latency, iperf-style, for the network benchmark
// (test/bench/network.ts). The server side runs in `serve`.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func serveTCP(addr string, handle func(net.Conn)) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcp:", err)
		os.Exit(1)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			handle(c)
		}()
	}
}

// countBytes reads until the sender closes its side, then answers how many bytes arrived.
func countBytes(c net.Conn) {
	n, _ := io.Copy(io.Discard, c)
	fmt.Fprintf(c, "%d\n", n)
}

func echo(c net.Conn) { _, _ = io.Copy(c, c) }

// throughput sends for d, closes its side and divides what the server counted by
// the time until the count came back (so nothing still in a buffer is counted).
func throughput(addr string, d time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 128*1024)
	start := time.Now()
	for time.Since(start) < d {
		if _, err := c.Write(buf); err != nil {
			return err
		}
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no count from the server: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("bytes=%d seconds=%.2f mbit_per_s=%.0f\n", n, secs, float64(n)*8/secs/1e6)
	return nil
}

// latency times count round trips of 64 bytes on one connection.
func latency(addr string, count int) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetNoDelay(true)
	msg := make([]byte, 64)
	got := make([]byte, 64)
	rtts := make([]float64, 0, count)
	for i := 0; i < count; i++ {
		t := time.Now()
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, got); err != nil {
			return err
		}
		rtts = append(rtts, float64(time.Since(t).Microseconds()))
	}
	sort.Float64s(rtts)
	at := func(p float64) float64 { return rtts[int(p*float64(len(rtts)-1))] }
	var sum float64
	for _, r := range rtts {
		sum += r
	}
	fmt.Printf("count=%d p50_us=%.0f p90_us=%.0f p99_us=%.0f mean_us=%.0f\n", count, at(0.5), at(0.9), at(0.99), sum/float64(count))
	return nil
}
