package notify

// ServeEventsEvery is ServeEvents with another keep-alive interval.
var ServeEventsEvery = serveEvents

// DecodedInTx is how many events d's transactions decoded themselves.
func DecodedInTx(d *Dispatcher) int64 { return d.decodedInTx.Load() }
