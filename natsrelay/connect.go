package natsrelay

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Connect connects to the NATS servers at urls (comma-separated, as nats.Connect
// takes them) for a Publisher. The connection never gives up: a server that is
// down at the start, or goes down later, is tried again every second, and the
// Publisher keeps the events queued meanwhile. opts come after Connect's own, so
// they may override them (credentials, TLS, a shorter wait in tests). Close the
// connection after the Publisher has stopped.
func Connect(urls string, log *slog.Logger, opts ...nats.Option) (*nats.Conn, jetstream.JetStream, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	where := Redact(urls)
	own := []nats.Option{
		nats.Name("hebao"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
		nats.ConnectHandler(func(nc *nats.Conn) {
			log.Info("connected to NATS", "server", Redact(nc.ConnectedUrl()))
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("disconnected from NATS; reconnecting", "servers", where, "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("reconnected to NATS", "server", Redact(nc.ConnectedUrl()))
		}),
	}
	nc, err := nats.Connect(urls, append(own, opts...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("natsrelay: connect to %s: %w", where, err)
	}
	js, err := jetstream.New(nc,
		// A round's events are in flight at once; an acknowledgement that never
		// comes frees its slot after AckWait.
		jetstream.WithPublishAsyncMaxPending(2*DefaultBatch),
		jetstream.WithPublishAsyncTimeout(DefaultAckWait))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("natsrelay: %w", err)
	}
	return nc, js, nil
}

// Redact returns NATS server URLs fit for a log: whatever comes before an @ (a
// user and password, or a token) is replaced with xxxxx.
func Redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, s := range parts {
		s = strings.TrimSpace(s)
		scheme, rest, ok := strings.Cut(s, "://")
		if !ok {
			scheme, rest = "", s
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			rest = "xxxxx" + rest[at:]
		}
		if ok {
			rest = scheme + "://" + rest
		}
		parts[i] = rest
	}
	return strings.Join(parts, ",")
}
