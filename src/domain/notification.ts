/** What is announced when a build ends, and how each delivery went. */
export interface BuildNotification {
  /** `<build id>:build.completed`: receivers use it to drop duplicates. */
  deliveryId: string;
  event: 'build.completed';
  buildId: string;
  dropletId: number;
  dropletName: string;
  deploymentUrl: string | null;
  repositoryPath: string | null;
  summary: string;
  completedAt: string;
}

export interface DeliveryResult {
  channel: string;
  delivered: boolean;
  /** Status code, error message or "already delivered". */
  detail: string;
}

