// Package sms holds Hebao's SMS gateways: DevInbox, the development gateway that
// keeps messages in memory and prints them, and HTTPGateway, which posts each
// message as signed JSON to the operator's SMS service.
package sms

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hebaopay/hebao"
)

// DefaultKeep is how many messages per phone a DevInbox keeps when told 0.
const DefaultKeep = 20

// maxPhones bounds a DevInbox's memory whatever phones it is sent to: past it, the
// phone whose last message is oldest is forgotten.
const maxPhones = 10_000

// DevInbox is the development SMS gateway. It sends nothing: it keeps the last
// messages of each phone, for GET /v1/dev/sms, and writes each one to the console,
// labelled, so a developer can read the codes. It keeps them in memory, and with a
// store (KeepIn) in the database too, where every development server sharing the
// database reads them. It must never be used with real customers: it prints their
// codes. It is safe for concurrent use.
type DevInbox struct {
	mu      sync.Mutex
	w       io.Writer
	keep    int
	now     func() time.Time
	byPhone map[string][]hebao.SMSMessage // oldest first
	store   hebao.Store                   // nil: memory only
	seal    Sealer
}

// Sealer seals what the inbox keeps in a database: *hebao.Keyring.
type Sealer interface {
	Seal(plaintext, additionalData []byte) (string, error)
	Open(sealed string, additionalData []byte) ([]byte, error)
}

// KeepIn makes the inbox keep its messages in store as well, sealed with seal (the
// codes in them are secrets even in development), and read them from it. Call it
// before the first Send.
func (d *DevInbox) KeepIn(store hebao.Store, seal Sealer) { d.store, d.seal = store, seal }

// sealAD binds a sealed message to its phone.
func sealAD(phone string) []byte { return []byte("dev_sms:" + phone) }

var _ hebao.SMS = (*DevInbox)(nil)

// NewDevInbox returns an inbox that keeps the last keep messages per phone
// (DefaultKeep if keep <= 0) and writes every message to console (nil writes none).
// now is the clock (time.Now if nil).
func NewDevInbox(console io.Writer, keep int, now func() time.Time) *DevInbox {
	if keep <= 0 {
		keep = DefaultKeep
	}
	if console == nil {
		console = io.Discard
	}
	if now == nil {
		now = time.Now
	}
	return &DevInbox{w: console, keep: keep, now: now, byPhone: map[string][]hebao.SMSMessage{}}
}

// Send keeps the message and prints it. Without a store it never fails; with one,
// it fails if the database does.
func (d *DevInbox) Send(ctx context.Context, phone, text string) error {
	m := hebao.SMSMessage{Phone: phone, Text: text, SentAt: d.now().UTC().Truncate(time.Microsecond)}
	d.remember(m)
	if d.store == nil {
		return nil
	}
	sealed, err := d.seal.Seal([]byte(text), sealAD(phone))
	if err != nil {
		return err
	}
	kept := hebao.SMSMessage{Phone: phone, Text: sealed, SentAt: m.SentAt}
	return d.store.Transact(ctx, func(tx hebao.Tx) error { return tx.AddDevSMS(ctx, kept, d.keep) })
}

// remember keeps m in memory and prints it.
func (d *DevInbox) remember(m hebao.SMSMessage) {
	phone, text := m.Phone, m.Text
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.byPhone[phone]; !ok && len(d.byPhone) >= maxPhones {
		d.forgetOldest()
	}
	msgs := append(d.byPhone[phone], m)
	if len(msgs) > d.keep {
		msgs = append([]hebao.SMSMessage(nil), msgs[len(msgs)-d.keep:]...)
	}
	d.byPhone[phone] = msgs
	fmt.Fprintf(d.w, "[development SMS gateway, not sent] %s to %s: %s\n", m.SentAt.Format(time.RFC3339), phone, text)
}

// forgetOldest drops the phone whose last message is the oldest.
func (d *DevInbox) forgetOldest() {
	var (
		oldest string
		at     time.Time
	)
	for p, msgs := range d.byPhone {
		if last := msgs[len(msgs)-1].SentAt; oldest == "" || last.Before(at) {
			oldest, at = p, last
		}
	}
	delete(d.byPhone, oldest)
}

// Messages returns the messages kept for phone, newest first: with a store, those
// any server sharing the database kept (this one's alone if the database cannot be
// read within 5 s).
func (d *DevInbox) Messages(phone string) []hebao.SMSMessage {
	if d.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var msgs []hebao.SMSMessage
		err := d.store.View(ctx, func(tx hebao.Tx) (err error) {
			msgs, err = tx.DevSMS(ctx, phone)
			return err
		})
		if err == nil {
			out := msgs[:0]
			for _, m := range msgs {
				if text, err := d.seal.Open(m.Text, sealAD(phone)); err == nil {
					m.Text = string(text)
					out = append(out, m)
				}
			}
			return out
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	msgs := d.byPhone[phone]
	out := make([]hebao.SMSMessage, len(msgs))
	for i, m := range msgs {
		out[len(msgs)-1-i] = m
	}
	return out
}
