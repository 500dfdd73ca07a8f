package notify_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
	"github.com/hebaopay/hebao/notify"
)

const phone = "13800138000"

// smsLog is an SMS gateway that records what it was asked to send.
type smsLog struct {
	mu   sync.Mutex
	sent []sms
	err  error
}

type sms struct{ phone, text string }

func (l *smsLog) Send(_ context.Context, phone, text string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, sms{phone, text})
	return l.err
}

func (l *smsLog) all() []sms {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sms(nil), l.sent...)
}

// newStore returns a store with customer cus_1 and wallet wal_1, whose SMS threshold
// is threshold.
func newStore(t *testing.T, threshold int64) *inmem.Store {
	t.Helper()
	s := inmem.New(nil)
	ctx := context.Background()
	err := s.Transact(ctx, func(tx hebao.Tx) error {
		if err := tx.CreateCustomer(ctx, hebao.Customer{ID: "cus_1", Phone: phone, PasswordHash: "x", CreatedAt: tx.Now()}); err != nil {
			return err
		}
		if err := tx.CreateWallet(ctx, hebao.Wallet{ID: "wal_1", CustomerID: "cus_1", Status: hebao.WalletActive, CreatedAt: tx.Now()}); err != nil {
			return err
		}
		st := hebao.DefaultWalletSettings("wal_1")
		st.SMSThreshold = threshold
		return tx.SaveWalletSettings(ctx, st)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func movement(kind hebao.MovementKind, status hebao.MovementStatus, amount int64) hebao.MovementEvent {
	return hebao.MovementEvent{
		CustomerID: "cus_1", WalletID: "wal_1", TransactionID: hebao.NewID("mov"), Kind: kind, Status: status,
		Amount: amount, Counterparty: "139****0000", BalanceAfter: 10_000 + amount,
		At: time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC),
	}
}

// emit writes the events to the outbox in one transaction.
func emit(t *testing.T, s hebao.Store, ms ...hebao.MovementEvent) {
	t.Helper()
	ctx := context.Background()
	err := s.Transact(ctx, func(tx hebao.Tx) error {
		for _, m := range ms {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if err := tx.Emit(ctx, hebao.Event{ID: hebao.NewID("evt"), Kind: hebao.EventMovement, Payload: b}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func inbox(t *testing.T, s hebao.Store) []hebao.Notification {
	t.Helper()
	var got []hebao.Notification
	err := s.View(context.Background(), func(tx hebao.Tx) (err error) {
		got, err = tx.Notifications(context.Background(), "cus_1", "", 1000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestTitle(t *testing.T) {
	for _, tc := range []struct {
		kind   hebao.MovementKind
		status hebao.MovementStatus
		want   string
	}{
		{hebao.MovementTopup, hebao.MovementPending, "Top-up of ¥12.34 is being processed"},
		{hebao.MovementTopup, hebao.MovementSucceeded, "Top-up of ¥12.34 succeeded"},
		{hebao.MovementTopup, hebao.MovementFailed, "Top-up of ¥12.34 failed: card declined"},
		{hebao.MovementWithdrawal, hebao.MovementPending, "Withdrawal of ¥12.34 is being processed"},
		{hebao.MovementWithdrawal, hebao.MovementSucceeded, "Withdrawal of ¥12.34 succeeded"},
		{hebao.MovementWithdrawal, hebao.MovementFailed, "Withdrawal of ¥12.34 failed: card declined"},
		{hebao.MovementTransferOut, hebao.MovementPending, "Sending ¥12.34 to 138****0000"},
		{hebao.MovementTransferOut, hebao.MovementSucceeded, "You sent ¥12.34 to 138****0000"},
		{hebao.MovementTransferOut, hebao.MovementFailed, "Sending ¥12.34 to 138****0000 failed: card declined"},
		{hebao.MovementTransferIn, hebao.MovementPending, "¥12.34 from 138****0000 is on its way"},
		{hebao.MovementTransferIn, hebao.MovementSucceeded, "You received ¥12.34 from 138****0000"},
		{hebao.MovementTransferIn, hebao.MovementFailed, "¥12.34 from 138****0000 did not arrive: card declined"},
		{hebao.MovementPointsCash, hebao.MovementSucceeded, "You received ¥12.34 for points"},
	} {
		m := hebao.MovementEvent{Kind: tc.kind, Status: tc.status, Amount: 1234}
		if tc.kind == hebao.MovementTransferIn || tc.kind == hebao.MovementTransferOut {
			m.Counterparty = "138****0000"
		}
		if tc.status == hebao.MovementFailed {
			m.FailureCode = "card_declined"
		}
		if got := notify.Title(m); got != tc.want {
			t.Errorf("Title(%s %s) = %q, want %q", tc.kind, tc.status, got, tc.want)
		}
	}
}

func TestFromEvent(t *testing.T) {
	m := movement(hebao.MovementTransferIn, hebao.MovementSucceeded, 1234)
	b, _ := json.Marshal(m)
	e := hebao.Event{ID: "evt_06f8w3y0abcdefghjkmnpqrstv", Kind: hebao.EventMovement, Payload: b, CreatedAt: time.Now()}
	got, ok, err := notify.FromEvent(e)
	if err != nil || !ok {
		t.Fatalf("FromEvent: %v, %v", ok, err)
	}
	want := hebao.Notification{
		ID: "ntf_06f8w3y0abcdefghjkmnpqrstv", CustomerID: "cus_1", Kind: "transfer_in.succeeded",
		Title: "You received ¥12.34 from 139****0000", Amount: 1234, Counterparty: "139****0000",
		BalanceAfter: 11234, TransactionID: m.TransactionID, CreatedAt: m.At,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromEvent (-want +got):\n%s", diff)
	}
	again, _, _ := notify.FromEvent(e)
	if again != got {
		t.Errorf("the same event made two notifications: %+v and %+v", got, again)
	}
	if _, ok, err := notify.FromEvent(hebao.Event{ID: "evt_x", Kind: "webhook", Payload: []byte("{}")}); ok || err != nil {
		t.Errorf("FromEvent of another kind: %v, %v; want false, nil", ok, err)
	}
	if _, _, err := notify.FromEvent(hebao.Event{ID: "evt_x", Kind: hebao.EventMovement, Payload: []byte("{")}); err == nil {
		t.Errorf("FromEvent of a malformed payload: no error")
	}

	v, err := json.Marshal(notify.NewView(got))
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"id":"ntf_06f8w3y0abcdefghjkmnpqrstv","kind":"transfer_in.succeeded","title":"You received ¥12.34 from 139****0000",` +
		`"amount":1234,"counterparty":"139****0000","balance_after":11234,"transaction_id":"` + m.TransactionID + `","created_at":"2026-11-26T01:02:03Z"}`
	if string(v) != wantJSON {
		t.Errorf("view JSON:\n got %s\nwant %s", v, wantJSON)
	}
}

func TestDispatchOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 1000)
	hub := notify.NewHub()
	texts := &smsLog{}
	d := &notify.Dispatcher{Store: s, Hub: hub, SMS: texts}
	ch, cancel := hub.Subscribe("cus_1")
	defer cancel()
	other, cancelOther := hub.Subscribe("cus_2")
	defer cancelOther()

	m := movement(hebao.MovementTransferIn, hebao.MovementSucceeded, 1234)
	emit(t, s, m)
	err := s.Transact(ctx, func(tx hebao.Tx) error {
		// Without an id, as the money services emit: the store gives it one.
		return tx.Emit(ctx, hebao.Event{Kind: "webhook", Payload: []byte(`{}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.DispatchOnce(ctx)
	if err != nil || n != 2 {
		t.Fatalf("DispatchOnce = %d, %v; want 2 events (one movement, one of another kind)", n, err)
	}
	got := inbox(t, s)
	if len(got) != 1 || got[0].Title != "You received ¥12.34 from 139****0000" || got[0].TransactionID != m.TransactionID {
		t.Fatalf("inbox: %+v", got)
	}
	select {
	case p := <-ch:
		if p != got[0] {
			t.Errorf("published %+v, stored %+v", p, got[0])
		}
	default:
		t.Errorf("nothing published to the customer")
	}
	select {
	case p := <-other:
		t.Errorf("another customer got %+v", p)
	default:
	}
	want := []sms{{phone, "【荷包 Hebao】You received ¥12.34 from 139****0000. Balance: ¥112.34."}}
	if diff := cmp.Diff(want, texts.all(), cmp.AllowUnexported(sms{})); diff != "" {
		t.Errorf("SMS (-want +got):\n%s", diff)
	}

	// Everything was delivered: a second round finds nothing.
	if n, err := d.DispatchOnce(ctx); err != nil || n != 0 {
		t.Errorf("second DispatchOnce = %d, %v; want 0", n, err)
	}
	if len(inbox(t, s)) != 1 || len(texts.all()) != 1 || len(ch) != 0 {
		t.Errorf("a second round delivered again")
	}
}

func TestDispatchSMSThreshold(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold int64
		amount    int64
		sent      bool
	}{
		{"off", hebao.SMSOff, 1_000_000, false},
		{"below", 5000, 4999, false},
		{"at", 5000, 5000, true},
		{"above", 5000, 5001, true},
		{"every movement", 0, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, tc.threshold)
			texts := &smsLog{err: errors.New("gateway down")} // a failure is logged, not retried
			d := &notify.Dispatcher{Store: s, SMS: texts}
			emit(t, s, movement(hebao.MovementTopup, hebao.MovementSucceeded, tc.amount))
			for range 2 {
				if _, err := d.DispatchOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			want := 0
			if tc.sent {
				want = 1
			}
			if got := len(texts.all()); got != want {
				t.Errorf("SMS sent: %d, want %d", got, want)
			}
			if len(inbox(t, s)) != 1 {
				t.Errorf("inbox: %d notifications, want 1", len(inbox(t, s)))
			}
		})
	}
}

// lossyStore forgets the first round's MarkDelivered, as if the round had been lost
// after storing its notifications: the events come again.
type lossyStore struct {
	hebao.Store
	mu   sync.Mutex
	lost bool
}

type lossyTx struct {
	hebao.Tx
	s *lossyStore
}

func (s *lossyStore) Transact(ctx context.Context, fn func(hebao.Tx) error) error {
	return s.Store.Transact(ctx, func(tx hebao.Tx) error { return fn(lossyTx{tx, s}) })
}

func (t lossyTx) MarkDelivered(ctx context.Context, ids []string, at time.Time) error {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if !t.s.lost {
		t.s.lost = true
		return nil
	}
	return t.Tx.MarkDelivered(ctx, ids, at)
}

func TestDispatchAgain(t *testing.T) {
	inner := newStore(t, hebao.SMSOff)
	s := &lossyStore{Store: inner}
	d := &notify.Dispatcher{Store: s}
	emit(t, s, movement(hebao.MovementWithdrawal, hebao.MovementFailed, 5000))
	for i, want := range []int{1, 1, 0} {
		if n, err := d.DispatchOnce(context.Background()); err != nil || n != want {
			t.Fatalf("round %d: DispatchOnce = %d, %v; want %d", i, n, err, want)
		}
	}
	if got := inbox(t, s); len(got) != 1 {
		t.Errorf("an event dispatched twice made %d notifications, want 1: %+v", len(got), got)
	}
}

func TestDispatchersRace(t *testing.T) {
	const events = 60
	s := newStore(t, 0) // an SMS for every movement: each send is one delivery
	texts := &smsLog{}
	for range events / 3 {
		emit(t, s,
			movement(hebao.MovementTransferIn, hebao.MovementSucceeded, 1),
			movement(hebao.MovementTransferOut, hebao.MovementPending, 2),
			movement(hebao.MovementTopup, hebao.MovementFailed, 3))
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for range 4 {
		d := &notify.Dispatcher{Store: s, SMS: texts, Batch: 7}
		wg.Go(func() {
			for {
				n, err := d.DispatchOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if total != events {
		t.Errorf("events delivered: %d, want %d", total, events)
	}
	if got := len(inbox(t, s)); got != events {
		t.Errorf("notifications: %d, want %d", got, events)
	}
	if got := len(texts.all()); got != events {
		t.Errorf("SMS sent: %d, want %d", got, events)
	}
}

// stream reads a Server-Sent Events response line by line.
func stream(t *testing.T, body *bufio.Reader) <-chan string {
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		for {
			l, err := body.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimSuffix(l, "\n")
		}
	}()
	return lines
}

// next returns the next line starting with prefix, failing the test at deadline.
func next(t *testing.T, lines <-chan string, prefix string, deadline time.Time) string {
	t.Helper()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended before a line starting with %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timer.C:
			t.Fatalf("no line starting with %q in time", prefix)
		}
	}
}

func TestServeEventsLive(t *testing.T) {
	s := newStore(t, hebao.SMSOff)
	hub := notify.NewHub()
	done := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		notify.ServeEvents(w, r, hub, "cus_1")
		done <- struct{}{}
	}))
	defer srv.Close()

	// The dispatcher polls rarely: delivery in time needs Wake, as the money
	// services call it after each commit.
	d := &notify.Dispatcher{Store: s, Hub: hub, Poll: time.Hour}
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- d.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	lines := stream(t, bufio.NewReader(resp.Body))
	next(t, lines, ": connected", time.Now().Add(5*time.Second))

	for i, m := range []hebao.MovementEvent{
		movement(hebao.MovementTransferIn, hebao.MovementSucceeded, 1234),
		movement(hebao.MovementTopup, hebao.MovementSucceeded, 10000),
	} {
		emitted := time.Now()
		emit(t, s, m)
		d.Wake()
		deadline := emitted.Add(time.Second)
		id := next(t, lines, "id: ntf_", deadline)
		if got := next(t, lines, "event: ", deadline); got != "event: notification" {
			t.Errorf("event %d: %q", i, got)
		}
		data := next(t, lines, "data: ", deadline)
		var v notify.View
		if err := json.Unmarshal([]byte(strings.TrimPrefix(data, "data: ")), &v); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if "id: "+v.ID != id || v.TransactionID != m.TransactionID || v.Amount != m.Amount || v.Title != notify.Title(m) {
			t.Errorf("event %d: %s %+v, want the notification of %+v", i, id, v, m)
		}
		t.Logf("event %d streamed %v after its commit", i, time.Since(emitted))
	}

	// The client goes away: the handler returns.
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ServeEvents still running after the client left")
	}
}

func TestServeEventsKeepAlive(t *testing.T) {
	hub := notify.NewHub()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		notify.ServeEventsEvery(w, r, hub, "cus_1", 10*time.Millisecond)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := stream(t, bufio.NewReader(resp.Body))
	next(t, lines, ": connected", time.Now().Add(5*time.Second))
	next(t, lines, ": keep-alive", time.Now().Add(5*time.Second))
}

func TestHubSlowSubscriber(t *testing.T) {
	hub := notify.NewHub()
	slow, cancelSlow := hub.Subscribe("cus_1") // never read
	fast, cancelFast := hub.Subscribe("cus_1")
	defer cancelFast()
	const n = notify.SubscriberBuffer * 3
	published := make(chan error)
	go func() {
		for i := range n {
			want := 2 // the slow subscriber too, until its buffer is full
			if i >= notify.SubscriberBuffer {
				want = 1
			}
			if got := hub.Publish(hebao.Notification{ID: fmt.Sprintf("ntf_%03d", i), CustomerID: "cus_1"}); got != want {
				published <- fmt.Errorf("publish %d reached %d subscribers", i, got)
				return
			}
			if got := <-fast; got.ID != fmt.Sprintf("ntf_%03d", i) {
				published <- fmt.Errorf("fast subscriber got %s for publish %d", got.ID, i)
				return
			}
		}
		published <- nil
	}()
	select {
	case err := <-published:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	if got := len(slow); got != notify.SubscriberBuffer {
		t.Errorf("slow subscriber holds %d, want its buffer of %d", got, notify.SubscriberBuffer)
	}
	cancelSlow()
	cancelSlow() // again: nothing happens
	for range slow {
	}
	if got := hub.Publish(hebao.Notification{CustomerID: "cus_1"}); got != 1 {
		t.Errorf("Publish after one cancel reached %d subscribers, want 1", got)
	}
}

// TestDispatchTransferBothSides: one event announces both sides of a transfer; each
// customer gets their own notification, once, however often the event comes.
func TestDispatchTransferBothSides(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, hebao.SMSOff)
	hub := notify.NewHub()
	d := &notify.Dispatcher{Store: s, Hub: hub}
	payee, cancel := hub.Subscribe("cus_2")
	defer cancel()
	out := movement(hebao.MovementTransferOut, hebao.MovementSucceeded, 500)
	in := movement(hebao.MovementTransferIn, hebao.MovementSucceeded, 500)
	in.CustomerID, in.WalletID, in.Counterparty = "cus_2", "wal_2", "138****0000"
	out.Other = &in
	emit(t, s, out)
	for range 2 { // a second round finds nothing new
		if _, err := d.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := inbox(t, s); len(got) != 1 || got[0].TransactionID != out.TransactionID || got[0].Kind != "transfer_out.succeeded" {
		t.Fatalf("payer's inbox: %+v", got)
	}
	var got []hebao.Notification
	err := s.View(ctx, func(tx hebao.Tx) (err error) {
		got, err = tx.Notifications(ctx, "cus_2", "", 10)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].TransactionID != in.TransactionID || got[0].Title != "You received ¥5.00 from 138****0000" {
		t.Fatalf("payee's inbox: %+v", got)
	}
	if !hebao.ValidID("ntf", got[0].ID) {
		t.Errorf("payee's notification id %q is not a notification id", got[0].ID)
	}
	select {
	case p := <-payee:
		if p != got[0] {
			t.Errorf("published %+v, stored %+v", p, got[0])
		}
	default:
		t.Errorf("nothing published to the payee")
	}
}

// emitPointsExpired writes a points expiry event for cus_1 to the outbox.
func emitPointsExpired(t *testing.T, s hebao.Store, points int64) hebao.PointsExpiredEvent {
	t.Helper()
	p := hebao.PointsExpiredEvent{CustomerID: "cus_1", WalletID: "wal_1", TransferID: hebao.NewID("trf"), Points: points, Year: 2024,
		At: time.Date(2026, 1, 1, 0, 0, 5, 0, time.UTC)}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Transact(ctx, func(tx hebao.Tx) error {
		return tx.Emit(ctx, hebao.Event{ID: hebao.NewID("evt"), Kind: hebao.EventPointsExpired, Payload: b})
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromEventPointsExpired(t *testing.T) {
	p := hebao.PointsExpiredEvent{CustomerID: "cus_1", WalletID: "wal_1", TransferID: "trf_06f8w3y0abcdefghjkmnpqrstv", Points: 120, Year: 2024,
		At: time.Date(2026, 1, 1, 0, 0, 5, 0, time.UTC)}
	b, _ := json.Marshal(p)
	e := hebao.Event{ID: "evt_06f8w3y0abcdefghjkmnpqrstw", Kind: hebao.EventPointsExpired, Payload: b}
	got, ok, err := notify.FromEvent(e)
	if err != nil || !ok {
		t.Fatalf("FromEvent: %v, %v", ok, err)
	}
	want := hebao.Notification{ID: "ntf_06f8w3y0abcdefghjkmnpqrstw", CustomerID: "cus_1", Kind: "points.expired", Title: "120 points expired",
		Amount: 120, TransactionID: p.TransferID, CreatedAt: p.At}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromEvent (-want +got):\n%s", diff)
	}
	p.Points = 1
	b, _ = json.Marshal(p)
	if one, _, _ := notify.FromEvent(hebao.Event{ID: e.ID, Kind: e.Kind, Payload: b}); one.Title != "1 point expired" {
		t.Errorf("one point: title %q", one.Title)
	}
	for _, bad := range []string{`{`, `{"customer_id": "cus_1", "points": 0}`, `{"points": 5}`} {
		if _, ok, err := notify.FromEvent(hebao.Event{ID: "evt_x", Kind: hebao.EventPointsExpired, Payload: []byte(bad)}); ok || err == nil {
			t.Errorf("FromEvent of %s: %v, %v; want false and an error", bad, ok, err)
		}
	}
}

// TestDispatchPointsExpired checks that expired points reach the inbox and the open
// apps, and never an SMS: the threshold is fen, and points are not.
func TestDispatchPointsExpired(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold int64
		points    int64
	}{
		{"every movement", 0, 1},
		{"above the threshold", 5000, 1_000_000},
		{"off", hebao.SMSOff, 1_000_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t, tc.threshold)
			hub := notify.NewHub()
			texts := &smsLog{}
			d := &notify.Dispatcher{Store: s, Hub: hub, SMS: texts}
			ch, cancel := hub.Subscribe("cus_1")
			defer cancel()
			p := emitPointsExpired(t, s, tc.points)
			m := movement(hebao.MovementTopup, hebao.MovementSucceeded, 1_000_000) // beside it, a movement that does get one
			emit(t, s, m)
			for i, want := range []int{2, 0} {
				if n, err := d.DispatchOnce(ctx); err != nil || n != want {
					t.Fatalf("round %d: DispatchOnce = %d, %v; want %d", i, n, err, want)
				}
			}
			var expired []hebao.Notification
			for _, n := range inbox(t, s) {
				if n.Kind == "points.expired" {
					expired = append(expired, n)
				}
			}
			if len(expired) != 1 || expired[0].Amount != tc.points || expired[0].TransactionID != p.TransferID || expired[0].CustomerID != "cus_1" {
				t.Fatalf("points notifications: %+v", expired)
			}
			published := 0
			for len(ch) > 0 {
				if n := <-ch; n.Kind == "points.expired" {
					published++
				}
			}
			if published != 1 {
				t.Errorf("points notifications published: %d, want 1", published)
			}
			for _, m := range texts.all() {
				if strings.Contains(m.text, "points") {
					t.Errorf("an SMS about points: %q", m.text)
				}
			}
			if want := map[bool]int{true: 0, false: 1}[tc.threshold == hebao.SMSOff]; len(texts.all()) != want {
				t.Errorf("SMS sent: %d, want %d (the top-up's only)", len(texts.all()), want)
			}
		})
	}
}

// lateStore emits an event just after each View, as a transfer committing between
// a dispatcher's View and its transaction would.
type lateStore struct {
	hebao.Store
	t    *testing.T
	late int
}

func (s *lateStore) View(ctx context.Context, fn func(hebao.Tx) error) error {
	err := s.Store.View(ctx, fn)
	if s.late > 0 {
		s.late--
		emit(s.t, s.Store, movement(hebao.MovementTopup, hebao.MovementSucceeded, 700))
	}
	return err
}

// TestDispatchPreDecode: with PreDecode the dispatcher decodes a round's events
// before its transaction, and the transaction decodes only an event that came in
// between; the inbox is what it would be without.
func TestDispatchPreDecode(t *testing.T) {
	s := newStore(t, hebao.SMSOff)
	emit(t, s,
		movement(hebao.MovementTransferIn, hebao.MovementSucceeded, 100),
		movement(hebao.MovementTransferOut, hebao.MovementSucceeded, 200),
		movement(hebao.MovementPayment, hebao.MovementSucceeded, 300))
	late := &lateStore{Store: s, t: t}
	d := &notify.Dispatcher{Store: late, PreDecode: true}
	ctx := context.Background()
	if n, err := d.DispatchOnce(ctx); n != 3 || err != nil {
		t.Fatalf("DispatchOnce = %d, %v; want 3", n, err)
	}
	if got := notify.DecodedInTx(d); got != 0 {
		t.Errorf("the transaction decoded %d events itself, want 0: all were decoded before it", got)
	}
	late.late = 1
	emit(t, s, movement(hebao.MovementWithdrawal, hebao.MovementSucceeded, 400))
	if n, err := d.DispatchOnce(ctx); n != 2 || err != nil {
		t.Fatalf("DispatchOnce = %d, %v; want 2 (one decoded before, one that came after the View)", n, err)
	}
	if got := notify.DecodedInTx(d); got != 1 {
		t.Errorf("the transaction decoded %d events itself, want 1: the one that came after the View", got)
	}
	var amounts []int64
	for _, n := range inbox(t, s) {
		amounts = append(amounts, n.Amount)
	}
	slices.Sort(amounts)
	if d := cmp.Diff([]int64{100, 200, 300, 400, 700}, amounts); d != "" {
		t.Errorf("inbox amounts (-want +got):\n%s", d)
	}
}
