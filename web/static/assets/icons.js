// The app's icons: small SVG line drawings of our own, so that no icon font, emoji
// font or image from elsewhere is needed.

import { svg } from './dom.js';

const paths = {
  home: 'M3 11l9-8 9 8 M5 9.5V21h5v-6h4v6h5V9.5',
  scan: 'M4 8V4h4 M16 4h4v4 M20 16v4h-4 M8 20H4v-4 M4 12h16',
  code: 'M4 4h6v6H4z M14 4h6v6h-6z M4 14h6v6H4z M14 14h2v2h-2z M18 18h2v2h-2z M14 19h2 M19 14h1',
  history: 'M6 3h12v18l-3-2-3 2-3-2-3 2z M9 8h6 M9 12h6 M9 16h3',
  me: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M4 21c1-4 4-6 8-6s7 2 8 6',
  transfer: 'M4 8h15 M15 4l4 4-4 4 M20 16H5 M9 12l-4 4 4 4',
  topup: 'M12 5v14 M5 12h14',
  withdraw: 'M12 4v11 M7 10l5 5 5-5 M5 20h14',
  card: 'M3 6h18v12H3z M3 10h18 M7 15h4',
  gift: 'M4 11h16v9H4z M3 7h18v4H3z M12 7v13 M12 7C10 3 6 3 6 5.5S12 7 12 7z M12 7c2-4 6-4 6-1.5S12 7 12 7z',
  help: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M9.5 9.5a2.5 2.5 0 1 1 3.4 2.3c-.6.3-.9.8-.9 1.5v.7 M12 17h.01',
  bell: 'M6 16v-5a6 6 0 1 1 12 0v5l2 2H4z M10 20.5a2 2 0 0 0 4 0',
  camera: 'M4 7h4l2-2h4l2 2h4v12H4z M12 16.5a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z',
  redpacket: 'M6 3h12v18H6z M6 7.5c3.5 3 8.5 3 12 0 M12 12.5a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3z',
  ok: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M7.5 12.5l3 3 6-6',
  clock: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M12 7v5l3 2',
  back: 'M15 5l-7 7 7 7',
};

// icon returns the named icon, drawn in the text colour.
export function icon(name, cls = '') {
  return svg('svg', { viewBox: '0 0 24 24', class: ('icon ' + cls).trim(), 'aria-hidden': 'true', fill: 'none', stroke: 'currentColor',
    'stroke-width': 1.8, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }, svg('path', { d: paths[name] }));
}
