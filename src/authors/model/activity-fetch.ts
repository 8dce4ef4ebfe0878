/**
 * A fetch for the SDK clients that reports every chunk of the response body as it
 * arrives. The idle watchdog must see bytes, not parsed events: the Messages API can
 * hold back a long tool input until it is whole and sends only pings meanwhile, which
 * the SDK swallows.
 */
export function activityFetch(onActivity: () => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    onActivity();
    if (!response.body) return response;
    const watched = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          onActivity();
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(watched, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
