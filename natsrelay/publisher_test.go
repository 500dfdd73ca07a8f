package natsrelay_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
	"github.com/hebaopay/hebao/natsrelay"
	"github.com/hebaopay/hebao/notify"
	"github.com/hebaopay/hebao/sqldb"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// natsEnv names the variable holding a JetStream server's URL for the test that
// runs against a real one, e.g. nats://127.0.0.1:4222. CI sets it.
const natsEnv = "HEBAO_TEST_NATS"

// stores runs test once per store: in memory, SQLite and, with HEBAO_TEST_POSTGRES,
// PostgreSQL (required with CI=true, like every storage test).
func stores(t *testing.T, test func(t *testing.T, store hebao.Store)) {
	t.Run("inmem", func(t *testing.T) {
		t.Parallel()
		test(t, inmem.New(nil))
	})
	for _, backend := range sqldbtest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			db, err := sqldb.Open(context.Background(), sqldb.Config{
				URL: sqldbtest.URL(t, backend), DataDir: t.TempDir(), LedgerKey: []byte("0123456789abcdef0123456789abcdef"),
			})
			if err != nil {
				t.Fatalf("open the store: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			test(t, db)
		})
	}
}

// server is an embedded NATS server with JetStream, which restarts on the same
// port and store directory.
type server struct {
	t    *testing.T
	dir  string
	port int
	s    *natsserver.Server
}

func startNATS(t *testing.T) *server {
	t.Helper()
	s := &server{t: t, dir: t.TempDir(), port: -1}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	s.t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: s.port, JetStream: true, StoreDir: s.dir, NoLog: true, NoSigs: true,
	})
	if err != nil {
		s.t.Fatalf("NATS server: %v", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		s.t.Fatalf("NATS server on port %d not ready", s.port)
	}
	s.s, s.port = ns, ns.Addr().(*net.TCPAddr).Port
}

func (s *server) stop() {
	if s.s != nil {
		s.s.Shutdown()
		s.s.WaitForShutdown()
		s.s = nil
	}
}

func (s *server) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// connect connects as the server does, retrying quickly.
func connect(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, js, err := natsrelay.Connect(url, nil, nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return js
}

// relay is a dispatcher and a publisher running on one store, and the events it
// was given.
type relay struct {
	t        *testing.T
	store    hebao.Store
	js       jetstream.JetStream
	pub      *natsrelay.Publisher
	dispatch *notify.Dispatcher
	produced map[string]hebao.Event
	mu       sync.Mutex
}

// newRelay makes a dispatcher and a publisher on store, not yet running.
func newRelay(t *testing.T, store hebao.Store, js jetstream.JetStream, stream, prefix string) *relay {
	pub := &natsrelay.Publisher{Store: store, JS: js, Stream: stream, Prefix: prefix,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Lease: 5 * time.Second, AckWait: 2 * time.Second, Poll: 50 * time.Millisecond, Batch: 64}
	return &relay{t: t, store: store, js: js, pub: pub, produced: map[string]hebao.Event{},
		dispatch: &notify.Dispatcher{Store: store, Relay: pub.Wake, Poll: 50 * time.Millisecond}}
}

// startRelay makes a dispatcher and a publisher on store and runs them until the
// test ends.
func startRelay(t *testing.T, store hebao.Store, js jetstream.JetStream, stream, prefix string) *relay {
	t.Helper()
	r := newRelay(t, store, js, stream, prefix)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.pub.Run(ctx); err != nil {
			t.Errorf("Publisher.Run: %v", err)
		}
	})
	wg.Go(func() {
		if err := r.dispatch.Run(ctx); err != nil {
			t.Errorf("Dispatcher.Run: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

var kinds = []string{hebao.EventOrderPaid, hebao.EventRefundSucceeded, "wallet"}

// emit commits n events, each in a transaction of its own, as the use cases do.
func (r *relay) emit(n int) {
	r.t.Helper()
	ctx := context.Background()
	for range n {
		r.mu.Lock()
		i := len(r.produced)
		r.mu.Unlock()
		e := hebao.Event{ID: hebao.NewID("evt"), Kind: kinds[i%len(kinds)], Payload: fmt.Appendf(nil, `{"n":%d}`, i)}
		err := r.store.Transact(ctx, func(tx hebao.Tx) error {
			e.CreatedAt = tx.Now() // as Emit stores it
			return tx.Emit(ctx, e)
		})
		if err != nil {
			r.t.Errorf("emit: %v", err)
			return
		}
		r.mu.Lock()
		r.produced[e.ID] = e
		r.mu.Unlock()
		r.dispatch.Wake()
	}
}

var errPeek = errors.New("roll back: only looking")

// waiting returns how many events are still to dispatch or to publish: the
// outbox's, and the relay queue's leased or not (a claim at a far time, rolled
// back).
func (r *relay) waiting() (int, error) {
	ctx := context.Background()
	var outbox, queued int
	err := r.store.Transact(ctx, func(tx hebao.Tx) error {
		pending, err := tx.PendingEvents(ctx, 1)
		if err != nil {
			return err
		}
		far := time.Now().Add(24 * time.Hour)
		claimed, err := tx.ClaimRelay(ctx, far, far, 1_000_000)
		if err != nil {
			return err
		}
		outbox, queued = len(pending), len(claimed)
		return errPeek
	})
	if !errors.Is(err, errPeek) {
		return 0, err
	}
	return outbox + queued, nil
}

// streamMsgs returns how many messages the stream holds.
func streamMsgs(ctx context.Context, js jetstream.JetStream, stream string) (uint64, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, still waiting for %s: %s", timeout, what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// drained waits until every event given to r is dispatched and published.
func (r *relay) drained(stream string) {
	r.t.Helper()
	waitFor(r.t, 30*time.Second, "every event published", func() (bool, string) {
		n, err := r.waiting()
		if err != nil {
			return false, err.Error()
		}
		return n == 0, fmt.Sprintf("%d events waiting", n)
	})
}

// checkStream reads the whole stream, as a consumer would, and checks that it
// holds every produced event exactly once: its id, subject, headers and payload.
func (r *relay) checkStream(stream, prefix string) {
	t := r.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	total, err := streamMsgs(ctx, r.js, stream)
	if err != nil {
		t.Fatal(err)
	}
	if total != uint64(len(r.produced)) {
		t.Errorf("the stream holds %d messages for %d events", total, len(r.produced))
	}
	s, err := r.js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for read := uint64(0); read < total; {
		batch, err := c.Fetch(int(min(total-read, 500)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			id := m.Headers().Get(jetstream.MsgIDHeader)
			seen[id]++
			e, ok := r.produced[id]
			if !ok {
				t.Errorf("message %q on %s: no such event", id, m.Subject())
				continue
			}
			created, err := time.Parse(time.RFC3339Nano, m.Headers().Get(natsrelay.HeaderCreatedAt))
			switch {
			case m.Subject() != prefix+"."+e.Kind:
				t.Errorf("event %s of kind %s on subject %s", id, e.Kind, m.Subject())
			case !bytes.Equal(m.Data(), e.Payload):
				t.Errorf("event %s: payload %s, want %s", id, m.Data(), e.Payload)
			case m.Headers().Get(natsrelay.HeaderEventID) != id || m.Headers().Get(natsrelay.HeaderKind) != e.Kind:
				t.Errorf("event %s: headers %v", id, m.Headers())
			case err != nil || !created.Equal(e.CreatedAt):
				t.Errorf("event %s: %s %q: %v", id, natsrelay.HeaderCreatedAt, m.Headers().Get(natsrelay.HeaderCreatedAt), err)
			}
		}
		if err := batch.Error(); err != nil {
			t.Fatalf("fetch: %v", err)
		}
		if n == 0 {
			t.Fatalf("the stream gave nothing after %d of %d messages", read, total)
		}
		read += uint64(n)
	}
	var missing, twice []string
	for id := range r.produced {
		switch seen[id] {
		case 0:
			missing = append(missing, id)
		case 1:
		default:
			twice = append(twice, id)
		}
	}
	slices.Sort(missing)
	slices.Sort(twice)
	if len(missing) > 0 || len(twice) > 0 {
		t.Errorf("of %d events, missing from the stream: %v; in it more than once: %v", len(r.produced), missing, twice)
	}
}

// requeue puts events published already back in the relay queue, as a publisher
// that died between the stream's acknowledgement and its delete leaves them.
func (r *relay) requeue(n int) {
	r.t.Helper()
	r.mu.Lock()
	var again []hebao.Event
	for _, e := range r.produced {
		if len(again) == n {
			break
		}
		again = append(again, e)
	}
	r.mu.Unlock()
	ctx := context.Background()
	if err := r.store.Transact(ctx, func(tx hebao.Tx) error { return tx.QueueRelay(ctx, again) }); err != nil {
		r.t.Fatal(err)
	}
	r.pub.Wake()
}

// TestRelayAcrossRestart stops the NATS server while events are being published,
// commits more while it is down, starts it again on the same port and store, and
// finds every event in the stream exactly once: none lost, none stored twice,
// even one published again after the restart.
func TestRelayAcrossRestart(t *testing.T) {
	stores(t, func(t *testing.T, store hebao.Store) {
		srv := startNATS(t)
		r := startRelay(t, store, connect(t, srv.url()), natsrelay.DefaultStream, natsrelay.DefaultPrefix)
		ctx := context.Background()

		var producing sync.WaitGroup
		producing.Go(func() { r.emit(200) })
		waitFor(t, 30*time.Second, "some events in the stream", func() (bool, string) {
			n, err := streamMsgs(ctx, r.js, natsrelay.DefaultStream)
			return err == nil && n >= 20, fmt.Sprintf("%d messages, %v", n, err)
		})
		srv.stop()
		producing.Wait()
		r.emit(100) // while NATS is down
		if n, err := r.waiting(); err != nil || n == 0 {
			t.Fatalf("with NATS down, %d events waiting (%v); want some", n, err)
		}

		srv.start()
		r.emit(100)
		r.drained(natsrelay.DefaultStream)
		// Published again after the restart, as after a crash before the delete:
		// the stream keeps its duplicate window across the restart.
		r.requeue(50)
		r.drained(natsrelay.DefaultStream)
		r.checkStream(natsrelay.DefaultStream, natsrelay.DefaultPrefix)
	})
}

// TestRepublishedEventStoredOnce publishes events, then publishes them again, as a
// publisher that died between the stream's acknowledgement and its delete would:
// the stream acknowledges the repeats and stores nothing new.
func TestRepublishedEventStoredOnce(t *testing.T) {
	stores(t, func(t *testing.T, store hebao.Store) {
		srv := startNATS(t)
		r := newRelay(t, store, connect(t, srv.url()), natsrelay.DefaultStream, natsrelay.DefaultPrefix)
		ctx := context.Background()
		r.emit(30)
		if n, err := r.dispatch.DispatchOnce(ctx); n != 30 || err != nil {
			t.Fatalf("DispatchOnce = %d, %v; want 30", n, err)
		}
		if n, err := r.pub.PublishOnce(ctx); n != 30 || err != nil {
			t.Fatalf("PublishOnce = %d, %v; want 30", n, err)
		}
		s, err := r.js.Stream(ctx, natsrelay.DefaultStream)
		if err != nil {
			t.Fatal(err)
		}
		first, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r.requeue(30)
		if n, err := r.waiting(); n != 30 || err != nil {
			t.Fatalf("requeued: %d events waiting, %v; want 30", n, err)
		}
		if n, err := r.pub.PublishOnce(ctx); n != 30 || err != nil {
			t.Fatalf("PublishOnce again = %d, %v; want 30", n, err)
		}
		again, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again.State.Msgs != 30 || again.State.LastSeq != first.State.LastSeq {
			t.Errorf("after publishing again: %d messages, last sequence %d; want 30 and %d",
				again.State.Msgs, again.State.LastSeq, first.State.LastSeq)
		}
		r.checkStream(natsrelay.DefaultStream, natsrelay.DefaultPrefix)
	})
}

// TestFailedPublicationKeepsEvents publishes to a stream that does not take the
// subjects: nothing is acknowledged, so every event stays queued and is released
// for the next round at once, and is published once the stream takes them.
func TestFailedPublicationKeepsEvents(t *testing.T) {
	stores(t, func(t *testing.T, store hebao.Store) {
		srv := startNATS(t)
		r := newRelay(t, store, connect(t, srv.url()), natsrelay.DefaultStream, natsrelay.DefaultPrefix)
		ctx := context.Background()
		cfg := jetstream.StreamConfig{Name: natsrelay.DefaultStream, Subjects: []string{"elsewhere.>"}, Storage: jetstream.FileStorage,
			Duplicates: natsrelay.DefaultDuplicates}
		if _, err := r.js.CreateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		r.emit(10)
		if n, err := r.dispatch.DispatchOnce(ctx); n != 10 || err != nil {
			t.Fatalf("DispatchOnce = %d, %v; want 10", n, err)
		}
		if n, err := r.pub.PublishOnce(ctx); n != 0 || err == nil {
			t.Fatalf("PublishOnce with no stream for the subjects = %d, %v; want 0 and an error", n, err)
		}
		// Released, not left leased: a claim now gets them all.
		var claimable int
		err := store.Transact(ctx, func(tx hebao.Tx) error {
			got, err := tx.ClaimRelay(ctx, tx.Now(), tx.Now(), 100)
			claimable = len(got)
			return errors.Join(err, errPeek)
		})
		if !errors.Is(err, errPeek) || claimable != 10 {
			t.Fatalf("after the failure, %d events claimable (%v); want 10", claimable, err)
		}

		cfg.Subjects = append(cfg.Subjects, natsrelay.DefaultPrefix+".>")
		if _, err := r.js.UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if n, err := r.pub.PublishOnce(ctx); n != 10 || err != nil {
			t.Fatalf("PublishOnce = %d, %v; want 10", n, err)
		}
		r.checkStream(natsrelay.DefaultStream, natsrelay.DefaultPrefix)
	})
}

// TestRelayRealNATS runs the relay against the JetStream server named by
// HEBAO_TEST_NATS, on a stream and subjects of its own, deleted at the end. With
// CI=true it may not be skipped.
func TestRelayRealNATS(t *testing.T) {
	url := os.Getenv(natsEnv)
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set: the test against a real NATS server may not be skipped in CI", natsEnv)
		}
		t.Skipf("%s not set: skipping the test against a real NATS server", natsEnv)
	}
	var b [4]byte
	rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	stream, prefix := "HEBAO_TEST_"+strings.ToUpper(suffix), "hebaotest"+suffix
	js := connect(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Fatalf("JetStream at %s: %v", natsrelay.Redact(url), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, stream); err != nil {
			t.Errorf("delete stream %s: %v", stream, err)
		}
	})
	r := startRelay(t, inmem.New(nil), js, stream, prefix)
	r.emit(150)
	r.drained(stream)
	r.requeue(40)
	r.drained(stream)
	r.checkStream(stream, prefix)
}

// TestSetupStreamKeepsSettings: a stream that exists keeps the limits its operator
// gave it; one that does not is made with the duplicate window.
func TestSetupStreamKeepsSettings(t *testing.T) {
	srv := startNATS(t)
	js := connect(t, srv.url())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	pub := &natsrelay.Publisher{Store: inmem.New(nil), JS: js}
	if err := pub.SetupStream(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, natsrelay.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	if !slices.Equal(cfg.Subjects, []string{"hebao.>"}) || cfg.Storage != jetstream.FileStorage || cfg.Duplicates != natsrelay.DefaultDuplicates {
		t.Fatalf("stream made with subjects %v, storage %v, duplicates %s", cfg.Subjects, cfg.Storage, cfg.Duplicates)
	}

	cfg.MaxAge, cfg.Duplicates = 24*time.Hour, time.Hour
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := (&natsrelay.Publisher{Store: inmem.New(nil), JS: js}).SetupStream(ctx); err != nil {
		t.Fatal(err)
	}
	s, err = js.Stream(ctx, natsrelay.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config; got.MaxAge != 24*time.Hour || got.Duplicates != time.Hour {
		t.Errorf("after a second setup: max age %s, duplicates %s; want the operator's 24h and 1h", got.MaxAge, got.Duplicates)
	}
}

func TestSubject(t *testing.T) {
	for _, tc := range []struct{ kind, want string }{
		{"movement", "hebao.movement"},
		{"order.paid", "hebao.order.paid"},
		{"payment_password.reset_required", "hebao.payment_password.reset_required"},
		{"a b*c>d\te", "hebao.a_b_c_d_e"},
		{".x..y.", "hebao._.x._.y._"},
		{"", "hebao._"},
	} {
		if got := natsrelay.Subject("hebao", tc.kind); got != tc.want {
			t.Errorf("Subject(%q) = %q, want %q", tc.kind, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://alice:s3cret@n1:4222, nats://token@n2:4222", "nats://xxxxx@n1:4222,nats://xxxxx@n2:4222"},
		{"alice:s3cret@n1:4222", "xxxxx@n1:4222"},
	} {
		got := natsrelay.Redact(tc.in)
		if got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
