package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao/inmem"
)

// A delivery one sender is sending is left alone by another sender until the first
// one's lease ends (Lease, or DefaultLease when 0): then the other sends it, and the
// first one's late outcome changes nothing. This is how a delivery claimed by a
// process that died is sent after all.
func TestSenderLease(t *testing.T) {
	for _, tt := range []struct {
		name  string
		lease time.Duration
		want  time.Duration
	}{
		{"default", 0, DefaultLease},
		{"set", 4 * time.Second, 4 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu       sync.Mutex
				arrivals int
			)
			first, release := make(chan struct{}), make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				arrivals++
				n := arrivals
				mu.Unlock()
				if n == 1 { // the first sender's attempt: it hangs until released
					close(first)
					select {
					case <-release:
					case <-r.Context().Done():
					}
				}
				w.WriteHeader(200)
			}))
			defer srv.Close()
			t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			ca, cb := &clock{t: t0}, &clock{t: t0}
			st := inmem.New(ca.Now)
			d := owe(t, st, srv.URL+"/notify", t0)
			policy := Policy{AllowHTTP: true, AllowLoopback: true}
			a, b := newSender(st, ca, policy), newSender(st, cb, policy)
			a.Lease, b.Lease = tt.lease, tt.lease
			ctx := context.Background()

			done := make(chan int)
			go func() {
				n, err := a.DeliverDue(ctx)
				if err != nil {
					t.Error(err)
				}
				done <- n
			}()
			select {
			case <-first:
			case <-time.After(5 * time.Second):
				t.Fatal("the first sender sent nothing")
			}
			if got := delivery(t, st, d.ID); got.Delivered || !got.NextAttemptAt.Equal(t0.Add(tt.want)) {
				t.Errorf("while the first sender sends it: %+v, want it leased until +%v", got, tt.want)
			}
			cb.Set(t0.Add(tt.want - time.Microsecond))
			if n, err := b.DeliverDue(ctx); err != nil || n != 0 {
				t.Errorf("within the lease another sender attempted %d (%v), want 0", n, err)
			}
			cb.Set(t0.Add(tt.want))
			if n, err := b.DeliverDue(ctx); err != nil || n != 1 {
				t.Errorf("at the end of the lease another sender attempted %d (%v), want 1", n, err)
			}
			close(release)
			if n := <-done; n != 1 {
				t.Errorf("the first sender counted %d attempts, want 1", n)
			}
			got := delivery(t, st, d.ID)
			mu.Lock()
			n := arrivals
			mu.Unlock()
			if !got.Delivered || got.Attempts != 1 || n != 2 {
				t.Errorf("after both: %+v, %d arrivals; want delivered by one recorded attempt, 2 arrivals", got, n)
			}
		})
	}
}

// An attempt is given at most half the lease: a receiver that never answers costs a
// sender with a 1-second lease half a second, and the attempt is recorded as failed
// before the lease could let another sender take the delivery.
func TestSenderAttemptWithinLease(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(stop)
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	c := &clock{t: t0}
	st := inmem.New(c.Now)
	d := owe(t, st, srv.URL+"/notify", t0)
	s := newSender(st, c, Policy{AllowHTTP: true, AllowLoopback: true})
	s.Lease = time.Second
	start := time.Now()
	if n, err := s.DeliverDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("DeliverDue: %d, %v", n, err)
	}
	if el := time.Since(start); el < 400*time.Millisecond || el > 900*time.Millisecond {
		t.Errorf("the attempt took %v, want about half the 1s lease", el)
	}
	if got := delivery(t, st, d.ID); got.Delivered || got.Attempts != 1 || got.LastError == "" || !got.NextAttemptAt.Equal(t0.Add(Schedule[0])) {
		t.Errorf("after the attempt that timed out: %+v", got)
	}
}
