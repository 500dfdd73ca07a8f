package notify

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hebaopay/hebao"
)

// The Dispatcher's defaults.
const (
	DefaultPoll  = 100 * time.Millisecond
	DefaultBatch = 100
)

// Dispatcher delivers the outbox. Each round takes a batch of pending events in one
// transaction: it stores the notification of each movement event in the customer's
// inbox, decides whether it is worth an SMS, and marks every event of the batch
// delivered. Events of other kinds are marked delivered without a notification; with
// Relay set, every event of the round is also queued for NATS JetStream (natsrelay).
// Only after the commit does it publish the notifications to the Hub and send the
// SMS, each once and never retried: a failed SMS is logged, and the inbox has it.
//
// Several dispatchers may share a database: on PostgreSQL each takes events the
// others have not locked; elsewhere their transactions run one at a time. If a round
// is lost after its commit was written, its events come again: a notification is
// stored once, but subscribers may see it twice and drop it by id.
type Dispatcher struct {
	Store hebao.Store
	Hub   *Hub      // nil: no live push
	SMS   hebao.SMS // nil: no SMS
	Log   *slog.Logger
	Poll  time.Duration // how often to look for events without a Wake; DefaultPoll when 0
	Batch int           // events per round; DefaultBatch when 0
	// Relay, when set, queues every event of a round for NATS JetStream in the
	// round's transaction (hebao.RelayTx), so an event is queued exactly when it is
	// marked delivered; it is called after the commit of a round that queued any
	// (a natsrelay.Publisher's Wake).
	Relay func()
	// PreDecode decodes a round's pending events before its transaction, in a View,
	// so that the transaction decodes only the events that came in between (an
	// event's payload never changes). Set it for a store that runs every
	// transaction in one committer, which every money movement waits for (sqldb on
	// SQLite): the decoding then runs beside the committer instead of in it.
	PreDecode bool

	// decodedInTx counts the events the transactions decoded themselves; tests look.
	decodedInTx atomic.Int64

	once sync.Once
	wake chan struct{}
}

func (d *Dispatcher) wakeup() chan struct{} {
	d.once.Do(func() { d.wake = make(chan struct{}, 1) })
	return d.wake
}

// Wake asks a running dispatcher to look for events now rather than at its next
// poll: call it after committing a transaction that emitted events. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wakeup() <- struct{}{}:
	default: // a wake-up is already pending
	}
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

// Run delivers events until ctx ends, then returns nil. A round that fails is
// logged and tried again at the next poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	if d.Store == nil {
		return errors.New("notify: Dispatcher needs a Store")
	}
	poll := d.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-d.wakeup():
		}
		n, err := d.DispatchOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			d.log().Error("dispatch outbox events", "err", err)
		}
		next := poll
		if err == nil && n >= d.batch() {
			next = 0 // a full batch: there may be more waiting
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

func (d *Dispatcher) batch() int {
	if d.Batch <= 0 {
		return DefaultBatch
	}
	return d.Batch
}

// delivery is what a round does after its commit.
type delivery struct {
	n     hebao.Notification
	phone string // "" when no SMS is due
}

// problem is a fault met inside the transaction, logged after it: the closure may
// run more than once, so it logs nothing itself.
type problem struct {
	msg     string
	eventID string
	err     error
}

// DispatchOnce delivers one batch of pending events and returns how many it marked
// delivered.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	var (
		out      []delivery
		problems []problem
		count    int
	)
	var pre map[string]decoded
	if d.PreDecode {
		pre = d.predecode(ctx)
	}
	// It moves no money, so on PostgreSQL it need not wait its turn at the ledger's
	// lock, nor hold it up (hebao.MovesNoMoney).
	err := d.Store.Transact(hebao.MovesNoMoney(ctx), func(tx hebao.Tx) error {
		out, problems, count = out[:0], problems[:0], 0
		events, err := tx.PendingEvents(ctx, d.batch())
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(events))
		var (
			sides   []side
			eventOf []string // the event of each side, to name in a problem
		)
		for _, e := range events {
			ids = append(ids, e.ID)
			dec, ok := pre[e.ID]
			if !ok {
				d.decodedInTx.Add(1)
				dec = decode(e)
			}
			ss, err := dec.sides, dec.err // no sides for kinds that make no notification
			if err != nil {
				// Kept back, it would block nothing but come again forever.
				problems = append(problems, problem{"drop malformed outbox event", e.ID, err})
				continue
			}
			for _, sd := range ss {
				sides, eventOf = append(sides, sd), append(eventOf, e.ID)
			}
		}
		settings, err := d.settingsOf(ctx, tx, sides)
		if err != nil {
			return err
		}
		for i, sd := range sides {
			if err := tx.AddNotification(ctx, sd.n); err != nil {
				return err
			}
			dl := delivery{n: sd.n}
			if dl.phone, err = d.smsPhone(ctx, tx, settings, sd.m, sd.n.Kind); err != nil {
				if hebao.ErrorCode(err) != hebao.CodeNotFound {
					return err
				}
				problems = append(problems, problem{"no SMS: customer not found", eventOf[i], err})
			}
			out = append(out, dl)
		}
		count = len(ids)
		if d.Relay != nil && len(events) > 0 {
			if err := tx.QueueRelay(ctx, events); err != nil {
				return err
			}
		}
		return tx.MarkDelivered(ctx, ids, tx.Now())
	})
	if err != nil {
		return 0, err
	}
	if d.Relay != nil && count > 0 {
		d.Relay()
	}
	for _, p := range problems {
		d.log().Error(p.msg, "event", p.eventID, "err", p.err)
	}
	if d.Hub != nil {
		for _, dl := range out {
			d.Hub.Publish(dl.n)
		}
	}
	for _, dl := range out {
		if dl.phone == "" || d.SMS == nil {
			continue
		}
		// The text may show an amount, never a code; it is not logged all the same.
		if err := d.SMS.Send(ctx, dl.phone, SMSText(dl.n)); err != nil {
			d.log().Warn("send notification SMS", "notification", dl.n.ID, "customer", dl.n.CustomerID, "err", err)
		}
	}
	return count, nil
}

// settingsOf reads, in one go, the settings of the wallets whose movements may be
// worth an SMS; nil when no SMS is sent at all.
func (d *Dispatcher) settingsOf(ctx context.Context, tx hebao.Tx, sides []side) (map[string]hebao.WalletSettings, error) {
	if d.SMS == nil {
		return nil, nil
	}
	var ids []string
	seen := map[string]bool{}
	for _, sd := range sides {
		if id := sd.m.WalletID; id != "" && sd.n.Kind != NotificationPaymentPasswordReset && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return tx.WalletSettingsOf(ctx, ids)
}

// smsPhone returns the phone to send an SMS about m, whose notification is of
// kind, to, or "" if its amount is below the wallet's threshold (from settings, as
// settingsOf read them) or the customer wants none. A payment-password reset is sent
// whatever the settings: it is a security notice, not a movement of money.
func (d *Dispatcher) smsPhone(ctx context.Context, tx hebao.Tx, settings map[string]hebao.WalletSettings, m hebao.MovementEvent, kind string) (string, error) {
	if d.SMS == nil {
		return "", nil
	}
	if kind == NotificationPaymentPasswordReset {
		c, err := tx.CustomerByID(ctx, m.CustomerID)
		if err != nil {
			return "", err
		}
		return c.Phone, nil
	}
	s := hebao.DefaultWalletSettings(m.WalletID)
	if set, ok := settings[m.WalletID]; ok {
		s = set
	}
	if s.SMSThreshold == hebao.SMSOff || s.SMSThreshold < 0 || m.Amount < s.SMSThreshold {
		return "", nil
	}
	c, err := tx.CustomerByID(ctx, m.CustomerID)
	if err != nil {
		return "", err
	}
	return c.Phone, nil
}

// decoded is what sidesOf made of an event.
type decoded struct {
	sides []side
	err   error
}

func decode(e hebao.Event) decoded {
	ss, _, err := sidesOf(e)
	return decoded{ss, err}
}

// predecode reads the pending events in a View and decodes them. A failed read
// gives nothing: the transaction then decodes every event itself.
func (d *Dispatcher) predecode(ctx context.Context) map[string]decoded {
	var events []hebao.Event
	err := d.Store.View(ctx, func(tx hebao.Tx) (err error) {
		events, err = tx.PendingEvents(ctx, d.batch())
		return err
	})
	if err != nil {
		return nil
	}
	out := make(map[string]decoded, len(events))
	for _, e := range events {
		out[e.ID] = decode(e)
	}
	return out
}
