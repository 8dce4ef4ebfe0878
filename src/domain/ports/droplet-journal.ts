/** What happened to a droplet outside its builds (rollback, stop, start, restart, undeploy, reconciliation). */
export interface DropletEvent {
  seq: number;
  dropletId: number;
  /** `droplet.deployed`, `droplet.rolled_back`, `droplet.stopped`, `droplet.started`, `droplet.restarted`, `droplet.undeployed`, `droplet.reconciled`. */
  type: string;
  data: Record<string, unknown>;
  at: string;
}

export interface DropletJournal {
  append(dropletId: number, type: string, data?: Record<string, unknown>): Promise<DropletEvent>;
  /** Newest first. */
  list(dropletId: number, limit?: number): Promise<DropletEvent[]>;
}
