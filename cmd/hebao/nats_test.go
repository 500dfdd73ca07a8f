package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/natsrelay"
)

// TestServeNATS runs serve --nats against an embedded JetStream server: a top-up's
// movement event reaches the stream HEBAO on hebao.movement, its event id as the
// message id, and the password in the NATS URL shows neither in the startup text
// nor in the log.
func TestServeNATS(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	addr := ns.Addr().(*net.TCPAddr).String()
	const password = "s3cret-of-nats"
	s := startServer(t, "--data-dir", t.TempDir(), "--dev", "--nats", "nats://hebao:"+password+"@"+addr)
	c := e2e{t, s}
	demoPayer(c, "13700137009", "王五", "11010519491231002X", "528471")

	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var topup *jetstream.RawStreamMsg
	for topup == nil {
		if ctx.Err() != nil {
			t.Fatalf("no top-up in the stream after 20s\n%s", s.stderr)
		}
		stream, err := js.Stream(ctx, natsrelay.DefaultStream)
		if err == nil {
			topup, _ = stream.GetLastMsgForSubject(ctx, "hebao."+hebao.EventMovement)
		}
		if topup == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	var m hebao.MovementEvent
	if err := json.Unmarshal(topup.Data, &m); err != nil || m.Kind != hebao.MovementTopup || m.Status != hebao.MovementSucceeded {
		t.Errorf("the last movement in the stream: %s (%v); want a succeeded top-up", topup.Data, err)
	}
	id := topup.Header.Get(jetstream.MsgIDHeader)
	if !strings.HasPrefix(id, "evt") || topup.Header.Get(natsrelay.HeaderEventID) != id {
		t.Errorf("message id %q, %s %q", id, natsrelay.HeaderEventID, topup.Header.Get(natsrelay.HeaderEventID))
	}

	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"startup text": s.stdout.String(), "log": s.stderr.String()} {
		if strings.Contains(text, password) {
			t.Errorf("the NATS password is in the %s", name)
		}
	}
	if want := fmt.Sprintf("nats://xxxxx@%s", addr); !strings.Contains(s.stderr.String(), want) {
		t.Errorf("the log does not name the NATS server as %s:\n%s", want, s.stderr)
	}
}
