/** The in-process event bus: fed after each committed journal write, read by streams. */
import type { BuildEvent } from '../domain/events.js';
import type { BuildEventListener, EventBus } from '../domain/ports/event-bus.js';

export class InMemoryEventBus implements EventBus {
  private readonly listeners = new Map<string, Set<BuildEventListener>>();
  private readonly everyBuild = new Set<BuildEventListener>();

  subscribe(buildId: string, listener: BuildEventListener): () => void {
    let set = this.listeners.get(buildId);
    if (!set) this.listeners.set(buildId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(buildId) === set) this.listeners.delete(buildId);
    };
  }

  subscribeAll(listener: BuildEventListener): () => void {
    this.everyBuild.add(listener);
    return () => void this.everyBuild.delete(listener);
  }

  publish(event: BuildEvent): void {
    const set = this.listeners.get(event.build_id);
    if (set) deliver(set, event);
    deliver(this.everyBuild, event);
  }
}

function deliver(set: Set<BuildEventListener>, event: BuildEvent): void {
  for (const listener of [...set]) {
    // A broken subscriber (a closed socket) must not stop the build or other subscribers.
    try {
      listener(event);
    } catch {
      set.delete(listener);
    }
  }
}
