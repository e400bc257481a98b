// lumber-send: Elastic's go-lumber v2 client (the library Filebeat's
// Logstash output uses) as a test peer for the beats receiver. It reads
// one JSON event per stdin line, sends them in batches of -batch events
// (a window frame, then JSON frames, zlib-compressed unless -compress 0),
// waits for each batch's ACK, and prints {"acked": n} or {"acked": n, "error": "..."}.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	v2 "github.com/elastic/go-lumber/client/v2"
)

func main() {
	addr := flag.String("addr", "", "host:port of the receiver")
	batch := flag.Int("batch", 100, "events per window")
	level := flag.Int("compress", 3, "zlib level, 0 = no compressed frames")
	timeout := flag.Duration("timeout", 10*time.Second, "per-ACK read timeout (as Filebeat's output.logstash.timeout)")
	ca := flag.String("ca", "", "CA file: connect with TLS and verify the server against it")
	cert := flag.String("cert", "", "client certificate (PEM), with -key")
	key := flag.String("key", "", "client key (PEM)")
	flag.Parse()

	var events []interface{}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e map[string]interface{}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fail(0, fmt.Errorf("stdin: %w", err))
		}
		events = append(events, e)
	}

	dial := func(network, address string) (net.Conn, error) {
		d := &net.Dialer{Timeout: *timeout}
		if *ca == "" {
			return d.Dial(network, address)
		}
		pem, err := os.ReadFile(*ca)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		cfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
		if *cert != "" {
			pair, err := tls.LoadX509KeyPair(*cert, *key)
			if err != nil {
				return nil, err
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		return tls.DialWithDialer(d, network, address, cfg)
	}
	c, err := v2.SyncDialWith(dial, *addr, v2.CompressionLevel(*level), v2.Timeout(*timeout))
	if err != nil {
		fail(0, err)
	}
	defer c.Close()
	acked := 0
	for len(events) > 0 {
		n := *batch
		if n > len(events) {
			n = len(events)
		}
		got, err := c.Send(events[:n])
		acked += got
		if err != nil {
			fail(acked, err)
		}
		events = events[n:]
	}
	out, _ := json.Marshal(map[string]interface{}{"acked": acked})
	fmt.Println(string(out))
}

func fail(acked int, err error) {
	out, _ := json.Marshal(map[string]interface{}{"acked": acked, "error": err.Error()})
	fmt.Println(string(out))
	os.Exit(1)
}
