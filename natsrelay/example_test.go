package natsrelay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hebaopay/hebao"
)

// A service that follows customers' money (docs/events.md): a durable consumer of
// the stream, which keeps its place across restarts, acknowledges each message once
// handled, and skips a message whose Nats-Msg-Id (the event id) it has handled
// already — delivery is at least once, and a repeat published after the stream's
// duplicate window would be stored twice.
func Example_consumer() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	nc, err := nats.Connect("nats://127.0.0.1:4222")
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "HEBAO", jetstream.ConsumerConfig{
		Durable:       "accounting",     // the stream remembers what it acknowledged
		FilterSubject: "hebao.movement", // or hebao.> for every kind
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		log.Fatal(err)
	}
	handled := map[string]bool{} // a real service keeps these ids with what it did, in one transaction
	cc, err := cons.Consume(func(m jetstream.Msg) {
		id := m.Headers().Get(jetstream.MsgIDHeader)
		if !handled[id] {
			var e hebao.MovementEvent
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				m.Term() // never deliverable: do not send it again
				return
			}
			fmt.Printf("%s %s: %s %s, %d fen\n", id, e.CustomerID, e.Kind, e.Status, e.Amount)
			handled[id] = true
		}
		m.Ack()
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cc.Stop()
	<-ctx.Done()
}
