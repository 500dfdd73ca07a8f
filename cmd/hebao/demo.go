package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"

	"github.com/hebaopay/hebao/demo"
	hebaohttp "github.com/hebaopay/hebao/http"
)

// devShop returns the demo shop (/demo/shop, /demo/till) of the merchant that
// seedDev wrote to the dev.json at path. Its API address is set once the server
// listens (demoAPI).
func devShop(path string, log *slog.Logger) (*demo.Shop, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("demo shop: %w", err)
	}
	var f devFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("demo shop: %s is not valid: %w", path, err)
	}
	if f.Merchant == nil || f.Merchant.APIKey == "" || f.Merchant.WebhookSecret == "" {
		return nil, fmt.Errorf("demo shop: %s has no merchant with an API key and a webhook secret", path)
	}
	return &demo.Shop{APIKey: f.Merchant.APIKey, WebhookSecret: f.Merchant.WebhookSecret, Log: log}, nil
}

// withDemo serves the demo shop's JSON and webhook beside the web app's pages: the
// server mounts cfg.Web on cfg.WebPatterns, so both become one handler on both
// sets of patterns.
func withDemo(cfg *hebaohttp.Config, shop *demo.Shop) {
	pages := http.NewServeMux()
	if cfg.Web != nil {
		for _, p := range cfg.WebPatterns {
			pages.Handle(p, cfg.Web)
		}
	}
	h := shop.Handler()
	for _, p := range demo.Patterns {
		pages.Handle(p, h)
	}
	cfg.Web = pages
	cfg.WebPatterns = append(slices.Clone(cfg.WebPatterns), demo.Patterns...)
}

// demoAPI is where the demo shop, inside this process, calls the API and has its
// webhooks sent: the listening address, or loopback when the server listens on
// every interface. (--dev allows loopback http notify_urls; a private
// address is refused even then.)
func demoAPI(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}
