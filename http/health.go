package http

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"time"

	"github.com/hebaopay/hebao"
)

// openapiDoc is the hand-written API description; tests keep it true to the routes.
//
//go:embed openapi.json
var openapiDoc []byte

// readyTimeout bounds the database ping of /readyz: a probe must not hang.
const readyTimeout = 2 * time.Second

// healthz answers 200 while the process is up.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database answers a ping, else 503, so a load balancer
// stops sending requests this process cannot serve.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return &hebao.Error{
			Kind:    hebao.KindUnavailable,
			Code:    hebao.CodeUnavailable,
			Message: "the database cannot be reached",
			Err:     fmt.Errorf("readyz: ping: %w", err),
		}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.Handler().ServeHTTP(w, r)
	return nil
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiDoc)
	return nil
}
