package sms

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
)

// tick is a clock that moves one second each time it is read.
func tick() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func TestDevInboxKeepsTheLastN(t *testing.T) {
	var console bytes.Buffer
	d := NewDevInbox(&console, 3, tick())
	for i := 1; i <= 5; i++ {
		if err := d.Send(context.Background(), "13800138000", fmt.Sprintf("message %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	d.Send(context.Background(), "13900139000", "other phone")
	at := func(s int) time.Time { return time.Date(2026, 3, 2, 4, 0, s, 0, time.UTC) }
	want := []hebao.SMSMessage{
		{Phone: "13800138000", Text: "message 5", SentAt: at(5)},
		{Phone: "13800138000", Text: "message 4", SentAt: at(4)},
		{Phone: "13800138000", Text: "message 3", SentAt: at(3)},
	}
	got := d.Messages("13800138000")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Messages, newest first (-want +got):\n%s", diff)
	}
	got[0].Text = "changed by the caller"
	if d.Messages("13800138000")[0].Text != "message 5" {
		t.Error("Messages returned the inbox's own slice")
	}
	if got := d.Messages("13700137000"); got == nil || len(got) != 0 {
		t.Errorf("Messages of a phone never sent to = %#v, want an empty slice", got)
	}

	lines := strings.Split(strings.TrimSpace(console.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("console has %d lines, want 6:\n%s", len(lines), console.String())
	}
	if want := "[development SMS gateway, not sent] 2026-03-02T04:00:01Z to 13800138000: message 1"; lines[0] != want {
		t.Errorf("console line %q, want %q", lines[0], want)
	}
}

func TestDevInboxDefaults(t *testing.T) {
	d := NewDevInbox(nil, 0, nil)
	for i := range DefaultKeep + 1 {
		d.Send(context.Background(), "13800138000", fmt.Sprint(i))
	}
	msgs := d.Messages("13800138000")
	if len(msgs) != DefaultKeep || msgs[0].Text != fmt.Sprint(DefaultKeep) {
		t.Errorf("kept %d messages, newest %q; want %d, %q", len(msgs), msgs[0].Text, DefaultKeep, fmt.Sprint(DefaultKeep))
	}
	if time.Since(msgs[0].SentAt) > time.Minute {
		t.Errorf("SentAt %v is not now", msgs[0].SentAt)
	}
}

func TestDevInboxForgetsOldestPhone(t *testing.T) {
	d := NewDevInbox(nil, 1, tick())
	for i := range maxPhones + 1 {
		d.Send(context.Background(), fmt.Sprintf("138%08d", i), "hi")
	}
	if n := len(d.Messages("13800000000")); n != 0 {
		t.Errorf("the oldest phone still has %d messages", n)
	}
	if n := len(d.Messages("13800000001")); n != 1 {
		t.Errorf("the second oldest phone has %d messages, want 1", n)
	}
	if n := len(d.byPhone); n != maxPhones {
		t.Errorf("%d phones kept, want %d", n, maxPhones)
	}
}

func TestDevInboxConcurrent(t *testing.T) {
	// A plain buffer: the inbox must serialize its writes to the console, and the
	// race detector says so if it stops doing that.
	var console bytes.Buffer
	d := NewDevInbox(&console, 1000, nil)
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			for i := range 50 {
				d.Send(context.Background(), "13800138000", fmt.Sprintf("%d-%d", g, i))
				d.Messages("13800138000")
			}
		})
	}
	wg.Wait()
	if n := len(d.Messages("13800138000")); n != 1000 {
		t.Errorf("kept %d messages, want 1000", n)
	}
	if n := strings.Count(console.String(), "\n"); n != 1000 {
		t.Errorf("console has %d lines, want 1000", n)
	}
}

// TestDevInboxSharedStore: two development servers' inboxes on one database each
// read what the other kept, the newest keep per phone.
func TestDevInboxSharedStore(t *testing.T) {
	store := inmem.New(nil)
	a, b := NewDevInbox(nil, 2, tick()), NewDevInbox(nil, 2, nil)
	keys := testKeyring(t)
	a.KeepIn(store, keys)
	b.KeepIn(store, keys)
	ctx := t.Context()
	for _, text := range []string{"one", "two", "three"} {
		if err := a.Send(ctx, "13800138000", text); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, m := range b.Messages("13800138000") {
		got = append(got, m.Text)
	}
	if d := cmp.Diff([]string{"three", "two"}, got); d != "" {
		t.Errorf("b reads (-want +got):\n%s", d)
	}
	if n := len(b.Messages("13900139000")); n != 0 {
		t.Errorf("another phone has %d", n)
	}
	// What the database holds is sealed.
	err := store.View(ctx, func(tx hebao.Tx) error {
		kept, err := tx.DevSMS(ctx, "13800138000")
		for _, m := range kept {
			if strings.Contains(m.Text, "three") || strings.Contains(m.Text, "two") {
				t.Errorf("the database holds the text: %q", m.Text)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testKeyring(t *testing.T) *hebao.Keyring {
	t.Helper()
	b, err := hebao.GenerateKeyring()
	if err != nil {
		t.Fatal(err)
	}
	k, err := hebao.ParseKeyring(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
