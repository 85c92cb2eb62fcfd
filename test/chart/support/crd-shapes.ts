// Hand-written shapes of the custom resources the chart renders (Prometheus Operator's ServiceMonitor and
// PrometheusRule, cert-manager's Certificate and Issuer): neither kubernetes-models nor
// @kubernetes/client-node carries their schemas, and no CRD is available offline here. Each shape lists
// only the fields the chart uses (from monitoring.coreos.com/v1 and cert-manager.io/v1 API references),
// closed, so a misspelt or misplaced field in a template fails the test — but a field the real CRD would
// reject for a reason not written down here (a value range, a cross-field rule) is not caught.

/** A JSON-ish shape; `k8s` hands a subtree to the @kubernetes/client-node type walker. */
export type Shape =
  | { type: 'string'; enum?: readonly string[]; pattern?: RegExp }
  | { type: 'integer' }
  | { type: 'boolean' }
  | { type: 'object'; fields: Readonly<Record<string, Shape>>; required?: readonly string[] }
  | { type: 'array'; items: Shape }
  | { type: 'map'; values: Shape }
  | { type: 'k8s'; model: string };

const str: Shape = { type: 'string' };
const duration: Shape = { type: 'string', pattern: /^(\d+(\.\d+)?(ms|s|m|h|d|w|y))+$/ };
const stringMap: Shape = { type: 'map', values: str };
const strings: Shape = { type: 'array', items: str };

const rule: Shape = {
  type: 'object',
  fields: {
    alert: str,
    record: str,
    expr: str,
    for: duration,
    keep_firing_for: duration,
    labels: stringMap,
    annotations: stringMap,
  },
  required: ['expr'],
};

const prometheusRuleSpec: Shape = {
  type: 'object',
  fields: {
    groups: {
      type: 'array',
      items: {
        type: 'object',
        fields: { name: str, interval: duration, rules: { type: 'array', items: rule } },
        required: ['name', 'rules'],
      },
    },
  },
  required: ['groups'],
};

const serviceMonitorSpec: Shape = {
  type: 'object',
  fields: {
    selector: { type: 'k8s', model: 'V1LabelSelector' },
    namespaceSelector: { type: 'object', fields: { any: { type: 'boolean' }, matchNames: strings } },
    targetLabels: strings,
    podTargetLabels: strings,
    jobLabel: str,
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        fields: {
          port: str,
          path: str,
          scheme: { type: 'string', enum: ['http', 'https'] },
          interval: duration,
          scrapeTimeout: duration,
          honorLabels: { type: 'boolean' },
        },
      },
    },
  },
  required: ['selector', 'endpoints'],
};

const issuerRef: Shape = {
  type: 'object',
  fields: { name: str, kind: str, group: str },
  required: ['name'],
};

const certificateSpec: Shape = {
  type: 'object',
  fields: {
    secretName: str,
    commonName: str,
    dnsNames: strings,
    isCA: { type: 'boolean' },
    duration: duration,
    renewBefore: duration,
    privateKey: {
      type: 'object',
      fields: {
        algorithm: { type: 'string', enum: ['RSA', 'ECDSA', 'Ed25519'] },
        size: { type: 'integer' },
        encoding: { type: 'string', enum: ['PKCS1', 'PKCS8'] },
        rotationPolicy: { type: 'string', enum: ['Never', 'Always'] },
      },
    },
    usages: {
      type: 'array',
      items: {
        type: 'string',
        enum: ['digital signature', 'key encipherment', 'server auth', 'client auth', 'cert sign', 'crl sign'],
      },
    },
    issuerRef,
  },
  required: ['secretName', 'issuerRef'],
};

const issuerSpec: Shape = {
  type: 'object',
  fields: {
    selfSigned: { type: 'object', fields: {} },
    ca: { type: 'object', fields: { secretName: str }, required: ['secretName'] },
  },
};

/** `apiVersion/kind` → the shape of its spec. */
export const CRD_SPECS: ReadonlyMap<string, Shape> = new Map([
  ['monitoring.coreos.com/v1/PrometheusRule', prometheusRuleSpec],
  ['monitoring.coreos.com/v1/ServiceMonitor', serviceMonitorSpec],
  ['cert-manager.io/v1/Certificate', certificateSpec],
  ['cert-manager.io/v1/Issuer', issuerSpec],
]);
