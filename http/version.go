package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/hebaopay/hebao"
)

// version is a dotted numeric version: "2.10.1" is [2 10 1].
type version []int

// parseVersion parses a version such as "2.10.1". A pre-release or build suffix
// after '-' or '+' ("2.10.1-beta.3") is ignored: app stores number builds by their
// release. At most 4 parts of at most 6 digits each, so nothing overflows.
func parseVersion(s string) (version, bool) {
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return nil, false
	}
	v := make(version, len(parts))
	for i, p := range parts {
		if p == "" || len(p) > 6 || strings.Trim(p, "0123456789") != "" {
			return nil, false
		}
		v[i], _ = strconv.Atoi(p)
	}
	return v, true
}

// compare returns -1, 0 or +1 as v is older than, the same as or newer than w;
// missing parts count as 0, so "2.1" is "2.1.0".
func (v version) compare(w version) int {
	for i := range max(len(v), len(w)) {
		a, b := 0, 0
		if i < len(v) {
			a = v[i]
		}
		if i < len(w) {
			b = w[i]
		}
		switch {
		case a < b:
			return -1
		case a > b:
			return +1
		}
	}
	return 0
}

// checkClientVersion answers client_upgrade_required (426) to a client whose
// X-Client-Version is below the configured minimum. A request without the header
// (a probe, Prometheus, curl) is served; one with a header that is not a version is
// invalid_request.
func (s *Server) checkClientVersion(r *http.Request) error {
	if s.minVersion == nil {
		return nil
	}
	h := r.Header.Get("X-Client-Version")
	if h == "" {
		return nil
	}
	v, ok := parseVersion(h)
	if !ok {
		return hebao.Errorf(hebao.CodeInvalidRequest, "X-Client-Version %q is not a version such as 2.4.0", truncate(h, 40))
	}
	if v.compare(s.minVersion) < 0 {
		return hebao.Errorf(hebao.CodeClientUpgradeRequired, "this app version (%s) is no longer supported; please update to %s or later", truncate(h, 40), s.minVersion)
	}
	return nil
}

// String prints v as dotted numbers.
func (v version) String() string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ".")
}
