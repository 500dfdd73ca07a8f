package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/hebaopay/hebao"
)

// decode reads the JSON request body into v. Everything wrong with a body is an
// invalid_request error whose message says what: a content type other than
// application/json, a body over 64 KiB, an empty body, malformed JSON, a value of the
// wrong type, a field v does not have (no mass assignment of balance or status), or
// anything after the first JSON value.
func decode(r *http.Request, v any) error {
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return invalid("the request body is larger than %d KiB", maxBody>>10)
		}
		return fmt.Errorf("read request body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid("the request body is empty; send a JSON object")
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("the request body has data after its JSON value")
	}
	return nil
}

// checkJSONContentType accepts application/json with any parameters. Refusing
// everything else also stops HTML forms posting here from other sites.
func checkJSONContentType(ct string) error {
	if ct == "" {
		return invalid("the Content-Type header is missing; send application/json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return invalid("the Content-Type is %q; send application/json", truncate(ct, 100))
	}
	return nil
}

// decodeError turns an encoding/json error into an invalid_request a client can act on.
func decodeError(err error) error {
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return invalid("the request body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(e.Error(), "json: "), e.Offset)
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if e.Field == "" {
			return invalid("the request body must be %s, not %s", jsonKind(e.Type), e.Value)
		}
		return invalid("field %q must be %s, not %s", e.Field, jsonKind(e.Type), e.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("the request body is not valid JSON: it ends too early")
	}
	// encoding/json has no type for this one; its text has been stable since Go 1.10.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return invalid("unknown field %s", name)
	}
	if _, ok := errors.AsType[*json.InvalidUnmarshalError](err); ok {
		return fmt.Errorf("decode: %w", err) // a bug in the handler: internal
	}
	return invalid("the request body is not valid JSON")
}

// jsonKind names the JSON type that decodes into t, for error messages.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

func invalid(format string, args ...any) error {
	return hebao.Errorf(hebao.CodeInvalidRequest, format, args...)
}

// writeJSON writes v as the JSON body of a response with the given status. It fails
// only if v cannot be encoded, before anything is written, so the caller can return
// the error and still get a problem document out. A client that has gone away is not
// an error.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return nil
}
