// The secret issuers generate uses, in order.
import { pkiIssuer } from './pki-issuer.js';
import { basicIssuer, type SecretIssuer } from './state.js';

export function defaultIssuers(): SecretIssuer[] {
  return [basicIssuer, pkiIssuer];
}
