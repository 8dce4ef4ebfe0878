/** Names a new droplet from its intent when the request gives no name. */
export interface DropletNamer {
  /** Always a valid droplet name: kebab-case, 3..50 characters (`DROPLET_NAME` in `domain/naming.ts`). */
  nameFor(intent: string): string;
}
