// metav1.Condition helpers: set a condition so that lastTransitionTime moves only when its status does.
import type { Condition } from '@sluice/crds';

export type ConditionStatus = Condition['status'];

export interface NewCondition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** A copy of `conditions` with `next` in place of the condition of its type (appended if absent). */
export function setCondition(conditions: readonly Condition[] | undefined, next: NewCondition, now: Date): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === next.type);
  const previous = index >= 0 ? list[index] : undefined;
  const lastTransitionTime = previous !== undefined && previous.status === next.status ? previous.lastTransitionTime : rfc3339(now);
  const condition: Condition = { ...next, lastTransitionTime };
  if (index >= 0) list[index] = condition;
  else list.push(condition);
  return list;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/** True when `type` is present with `status` (and, if given, `reason`). */
export function hasCondition(conditions: readonly Condition[] | undefined, type: string, status: ConditionStatus, reason?: string): boolean {
  const condition = findCondition(conditions, type);
  return condition !== undefined && condition.status === status && (reason === undefined || condition.reason === reason);
}

/** metav1.Time is whole seconds in RFC 3339. */
function rfc3339(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}
