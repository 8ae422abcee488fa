/** Annotation and label keys shared with the policy pack: the contract's (contract/conventions.ts). */
export {
  annotations,
  appLabels,
  exemptionKey,
  exemptionPrefix,
  keelKeyPrefix,
  managedBy,
  namespaceLabels,
  selectorLabels,
} from "./contract/conventions";
