/**
 * Policy rules for the rendered chart: a superset of Pod Security "restricted" plus release-level rules (PDBs,
 * NetworkPolicies, autoscaling, selectors, draining). Each rule returns its violations so tests can assert both
 * that a good release has none and that a deliberately broken manifest trips exactly the rule meant to catch it.
 * The rules live by object kind: pod-security.ts, workload.ts, network.ts and secrets.ts.
 */
import type { K8sObject } from '../helm.ts';
import { NETWORK_RULES } from './network.ts';
import { POD_SECURITY_RULES } from './pod-security.ts';
import type { Rule, Violation } from './rule.ts';
import { SECRET_RULES } from './secrets.ts';
import { WORKLOAD_RULES } from './workload.ts';

export { podOwners } from './pods.ts';
export { type Rule, selects, type Violation } from './rule.ts';

export const RULES: Rule[] = [...POD_SECURITY_RULES, ...WORKLOAD_RULES, ...NETWORK_RULES, ...SECRET_RULES];

export function checkAll(objects: K8sObject[]): Violation[] {
  return RULES.flatMap((rule) => rule.check(objects));
}

export function ruleById(id: string): Rule {
  const rule = RULES.find((r) => r.id === id);
  if (!rule) throw new Error(`no rule ${id}`);
  return rule;
}
