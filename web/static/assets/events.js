// Live notifications. GET /v1/events authenticates with the Authorization header
// only, which EventSource cannot send, so the stream is read with fetch() and a
// ReadableStream, and parsed as Server-Sent Events here. It reconnects with a
// growing pause; what was missed meanwhile is in GET /v1/notifications.

import { session } from './api.js';

// connect streams the customer's notifications to onNotification until stop() is
// called. onState gets 'open' or 'closed' as the stream comes and goes.
export function connect(onNotification, onState = () => {}) {
  const ctl = new AbortController();
  let stopped = false;
  let pause = 1000;

  async function once() {
    const token = session.token;
    if (!token) return false;
    const res = await fetch('/v1/events', {
      headers: { Authorization: 'Bearer ' + token, Accept: 'text/event-stream' },
      cache: 'no-store',
      signal: ctl.signal,
    });
    if (res.status === 401) return false;
    if (!res.ok || !res.body) return true;
    onState('open');
    pause = 1000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let event = { type: 'message', data: [], id: '' };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let nl;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (event.data.length && event.type === 'notification') {
            try {
              onNotification(JSON.parse(event.data.join('\n')));
            } catch (e) {
              console.warn('hebao: an event that is not JSON', e);
            }
          }
          event = { type: 'message', data: [], id: '' };
          continue;
        }
        if (line.startsWith(':')) continue; // a comment: connected, keep-alive
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        let val = i < 0 ? '' : line.slice(i + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'event') event.type = val;
        else if (field === 'data') event.data.push(val);
        else if (field === 'id') event.id = val;
      }
    }
    return true;
  }

  (async () => {
    while (!stopped) {
      let again = true;
      try {
        again = await once();
      } catch {
        // the network went away, or stop() aborted the request
      }
      onState('closed');
      if (stopped || !again) return;
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 30000);
    }
  })();

  return function stop() {
    stopped = true;
    ctl.abort();
  };
}
