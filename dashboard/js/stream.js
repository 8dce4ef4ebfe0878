/**
 * Follows a build's WebSocket stream: a snapshot, then every event after `after`, live.
 * Reconnects from the last seq seen when the socket drops before the build ends (the
 * journal means nothing is lost); the server closes 1000 once the build has ended.
 */
import { streamUrl } from './api.js';

const RECONNECT_MS = 2000;

export function followBuild(buildId, { onSnapshot, onEvent, onState }) {
  let lastSeq = 0;
  let socket;
  let stopped = false;
  let timer;

  const connect = () => {
    const current = new WebSocket(streamUrl(buildId, lastSeq));
    socket = current;
    current.addEventListener('open', () => onState?.('live'));
    current.addEventListener('message', (message) => {
      const data = JSON.parse(message.data);
      if (data.type === 'snapshot') onSnapshot?.(data.build);
      else {
        lastSeq = Math.max(lastSeq, data.seq);
        onEvent?.(data);
      }
    });
    current.addEventListener('close', (event) => {
      // A socket replaced by `restart` says nothing about the build any more.
      if (stopped || current !== socket) return;
      if (event.code === 1000) {
        onState?.('ended');
        return;
      }
      // 1008: refused (e.g. the token); anything else: a drop worth retrying.
      onState?.(event.code === 1008 ? 'refused' : 'reconnecting');
      if (event.code !== 1008) timer = setTimeout(connect, RECONNECT_MS);
    });
  };
  connect();
  return {
    /** Opens the stream again (after a retry reopens the build). */
    restart() {
      clearTimeout(timer);
      if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
      connect();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      socket?.close(1000);
    },
  };
}
