package notify

// ServeEventsEvery is ServeEvents with another keep-alive interval.
var ServeEventsEvery = serveEvents
