package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// receiver records what reached it and answers from a list of statuses (the last one
// over and over).
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []http.Header
	bodies   [][]byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, req.Header.Clone())
	r.bodies = append(r.bodies, b)
	st := r.statuses[min(len(r.got), len(r.statuses))-1]
	w.WriteHeader(st)
}

func (r *receiver) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.got) }

var testSecret = []byte("whsec_sender_test")

// owe stores a merchant and one delivery to url, due at due.
func owe(t *testing.T, st *inmem.Store, url string, due time.Time) hebao.WebhookDelivery {
	t.Helper()
	ctx := context.Background()
	d := hebao.WebhookDelivery{ID: hebao.NewID("whd"), MerchantID: "mch_test", EventID: hebao.NewID("evt"), EventType: hebao.EventOrderPaid,
		URL: url, Payload: []byte(`{"id":"evt","type":"order.paid"}`), NextAttemptAt: due, CreatedAt: due, UpdatedAt: due}
	if err := st.Transact(ctx, func(tx hebao.Tx) error { return tx.CreateDelivery(ctx, d) }); err != nil {
		t.Fatal(err)
	}
	return d
}

func delivery(t *testing.T, st *inmem.Store, id string) hebao.WebhookDelivery {
	t.Helper()
	var d hebao.WebhookDelivery
	if err := st.View(context.Background(), func(tx hebao.Tx) (err error) {
		d, err = tx.Delivery(context.Background(), "mch_test", id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

func newSender(st *inmem.Store, c *clock, p Policy) *Sender {
	return &Sender{Store: st, Policy: p, Now: c.Now,
		Secret: func(context.Context, string) ([]byte, error) { return testSecret, nil }}
}

// A receiver that fails three times and then answers 200 gets exactly the attempts
// the schedule says, at the times it says, each signed afresh and carrying the same
// event id, and nothing after the 200.
func TestSenderFollowsTheSchedule(t *testing.T) {
	rcv := &receiver{statuses: []int{500, 503, 404, 204}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := &clock{t: t0}
	st := inmem.New(c.Now)
	d := owe(t, st, srv.URL+"/notify", t0)
	s := newSender(st, c, Policy{AllowHTTP: true, AllowLoopback: true})
	ctx := context.Background()
	// At each moment: how many attempts DeliverDue makes then.
	steps := []struct {
		at   time.Duration
		want int
	}{
		{0, 1},
		{14 * time.Second, 0}, {15 * time.Second, 1},
		{29 * time.Second, 0}, {30 * time.Second, 1},
		{59 * time.Second, 0}, {60 * time.Second, 1},
		{10 * time.Hour, 0}, {48 * time.Hour, 0},
	}
	for _, step := range steps {
		c.Set(t0.Add(step.at))
		n, err := s.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != step.want {
			t.Errorf("at +%v: %d attempts, want %d", step.at, n, step.want)
		}
	}
	if rcv.count() != 4 {
		t.Fatalf("the receiver got %d deliveries, want 4", rcv.count())
	}
	for i, h := range rcv.got {
		if h.Get(EventIDHeader) != d.EventID {
			t.Errorf("delivery %d carried event id %q, want %q", i, h.Get(EventIDHeader), d.EventID)
		}
		at := t0.Add([]time.Duration{0, 15 * time.Second, 30 * time.Second, 60 * time.Second}[i])
		if err := Verify(testSecret, h.Get(SignatureHeader), rcv.bodies[i], at, DefaultTolerance); err != nil {
			t.Errorf("delivery %d: signature does not verify: %v", i, err)
		}
		if !strings.Contains(h.Get(SignatureHeader), "t="+strconv.FormatInt(at.Unix(), 10)) {
			t.Errorf("delivery %d signed at %s, want %d", i, h.Get(SignatureHeader), at.Unix())
		}
	}
	got := delivery(t, st, d.ID)
	if !got.Delivered || got.Attempts != 4 || got.LastStatus != 204 || !got.NextAttemptAt.IsZero() {
		t.Errorf("after the 204: %+v", got)
	}
}

// A notify_url that points at this machine is refused at each attempt when loopback
// is not allowed: nothing reaches it, and the refusal is recorded and retried on the
// schedule (the address may change, or the merchant may replay).
func TestSenderRefusesLoopbackAtDelivery(t *testing.T) {
	rcv := &receiver{statuses: []int{200}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := &clock{t: t0}
	st := inmem.New(c.Now)
	d := owe(t, st, srv.URL+"/notify", t0)
	s := newSender(st, c, Policy{AllowHTTP: true})
	if n, err := s.DeliverDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("DeliverDue: %d, %v", n, err)
	}
	if rcv.count() != 0 {
		t.Fatal("a delivery reached a loopback address")
	}
	got := delivery(t, st, d.ID)
	if got.Delivered || got.Attempts != 1 || !strings.Contains(got.LastError, "loopback") || !got.NextAttemptAt.Equal(t0.Add(15*time.Second)) {
		t.Errorf("after the refused attempt: %+v", got)
	}
}

// A replay sends a delivered event again, with its event id; a schedule that ran out
// ends with the delivery marked failed.
func TestSenderReplayAndGivingUp(t *testing.T) {
	rcv := &receiver{statuses: []int{200}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := &clock{t: t0}
	st := inmem.New(c.Now)
	ctx := context.Background()
	d := owe(t, st, srv.URL+"/notify", t0)
	s := newSender(st, c, Policy{AllowHTTP: true, AllowLoopback: true})
	if n, _ := s.DeliverDue(ctx); n != 1 || !delivery(t, st, d.ID).Delivered {
		t.Fatal("first delivery")
	}
	replays := &hebao.WebhookService{Store: st, Now: c.Now}
	if _, err := replays.Replay(ctx, hebao.Merchant{ID: "mch_test"}, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := replays.Replay(ctx, hebao.Merchant{ID: "mch_other"}, d.ID); hebao.ErrorCode(err) != hebao.CodeNotFound {
		t.Errorf("replaying another merchant's delivery: %v, want not_found", err)
	}
	if n, _ := s.DeliverDue(ctx); n != 1 || rcv.count() != 2 || rcv.got[1].Get(EventIDHeader) != d.EventID {
		t.Fatalf("replay: %d deliveries, event %q", rcv.count(), rcv.got[1].Get(EventIDHeader))
	}

	// A receiver that is always down: 16 attempts (the first and 15 retries), then none.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }))
	defer down.Close()
	d2 := owe(t, st, down.URL, t0)
	attempts := 0
	for at := t0; attempts < 20; at = at.Add(time.Hour) {
		c.Set(at)
		n, err := s.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		attempts += n
		if at.After(t0.Add(48 * time.Hour)) {
			break
		}
	}
	got := delivery(t, st, d2.ID)
	if attempts != 1+len(Schedule) || got.Attempts != 1+len(Schedule) || got.Delivered || !got.NextAttemptAt.IsZero() || got.LastStatus != 500 {
		t.Errorf("always down: %d attempts, delivery %+v", attempts, got)
	}
}
