// The secret issuers generate uses, in order.
import { basicIssuer, type SecretIssuer } from './state.js';

export function defaultIssuers(): SecretIssuer[] {
  return [basicIssuer];
}
