// Kubernetes integration: what chatd needs to run as a StatefulSet pod (see K8S-CONTRACT.md).

export { runKubernetesMode, registerKubernetesOptions, readAdminTokenFile, type KubernetesMode, type KubernetesOptions } from './kubernetes-mode.js';
export { guardAdmission } from './admission-guard.js';
export { admissionPolicy, decideAdmission, type AdmissionDecision, type AdmissionPolicy } from './admission.js';
export { decideBootstrap, type BootstrapDecision, type BootstrapInputs } from './bootstrap-decision.js';
export { planNextStep, type PlanInputs, type PlanStep } from './reconcile-plan.js';
export { ordinalOf, podName, podHost, memberAddresses, parseAddressOverrides, type StatefulSetIdentity } from './identity.js';
export { KubernetesError, type KubernetesErrorCode } from './errors.js';
