/**
 * The CEL environment the API server compiles a CRD's `x-kubernetes-validations` rules in
 * (k8s.io/apiserver/pkg/cel/environment/base.go): CEL's standard library, the cel-go strings
 * extension (`ext.Strings`, version 2), and the Kubernetes libraries of k8s.io/apiserver/pkg/cel/library.
 *
 * Of the Kubernetes libraries, only the functions that the rules of the CRDs we check use are here
 * (test/cel-rules.test.ts lists any other a rule calls, as an error of the checker):
 * - `isIP(string) bool` (ip.go).
 * Everything else (lists, regex `find`, url, quantity, cidr, format, semver, optional types) is not
 * declared, so a rule using it fails to compile here rather than passing unchecked.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { celEnv, celFunc, CelScalar, type CelEnv } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

/**
 * `isIP`: k8s.io/apiserver/pkg/cel/library/ip.go, isIP → parseIPAddr: Go's netip.ParseAddr (dotted
 * decimal IPv4 without leading zeros, or IPv6), refusing a zone (`fe80::1%eth0`) and an
 * IPv4-mapped IPv6 address (`::ffff:1.2.3.4`).
 */
export function isIP(s: string): boolean {
  if (s.includes('%')) return false;
  if (isIPv4(s)) return true;
  if (!isIPv6(s)) return false;
  // The URL parser writes an IPv6 address canonically: an IPv4-mapped one as ::ffff:hhhh:hhhh.
  const host = new URL(`http://[${s}]/`).hostname;
  return !/^\[::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}\]$/.test(host);
}

/** The Kubernetes library functions the checked rules use, with their k8s.io/apiserver/pkg/cel/library source. */
export const KUBERNETES_FUNCTIONS = [
  { name: 'isIP', source: 'k8s.io/apiserver/pkg/cel/library/ip.go', func: celFunc('isIP', [CelScalar.STRING], CelScalar.BOOL, isIP) },
] as const;

/** The environment, variables aside: rules declare `self` (and `oldSelf`) per place, to the checker. */
export function kubernetesCelEnv(): CelEnv {
  return celEnv({ funcs: [...strings, ...KUBERNETES_FUNCTIONS.map((f) => f.func)] });
}
