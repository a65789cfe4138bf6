// Secure mode's certificates: the three CAs, made once and kept in the state
// folder, and every leaf of plan.pki signed by its CA.
import { ClusterError } from '../errors.js';
import type { CAName, CASpec, LeafSpec } from '../plan/pki.js';
import type { ClusterPlan } from '../plan/types.js';
import { createCA, describeCert, issueLeaf, type KeyPairPem } from '../pki/x509.js';
import type { Secrets } from '../render/bundle.js';
import type { SecretIssuer, StateDir } from './state.js';

export function makePkiIssuer(clock: () => Date = () => new Date()): SecretIssuer {
  return {
    async issue(plan, names, have, state) {
      const pki = plan.pki;
      if (!pki) return {};
      const wanted = new Set(names);
      const wants = (base: string) => wanted.has(`${base}.crt`) || wanted.has(`${base}.key`);
      const lookup = (name: string) => have[name] ?? state.read(name);
      const now = clock();
      const out: Record<string, string> = {};
      const cas = new Map<CAName, KeyPairPem>();

      const ca = async (spec: CASpec): Promise<KeyPairPem> => {
        let pair = cas.get(spec.name);
        if (!pair) {
          pair = await loadOrCreateCA(spec, plan, have, state, now);
          cas.set(spec.name, pair);
        }
        return pair;
      };

      for (const spec of pki.cas) {
        if (!wants(spec.name)) continue;
        const pair = await ca(spec);
        // Key before certificate: a crash in between leaves a state that can be completed.
        if (wanted.has(`${spec.name}.key`)) out[`${spec.name}.key`] = pair.key;
        if (wanted.has(`${spec.name}.crt`)) out[`${spec.name}.crt`] = pair.cert;
      }
      for (const leaf of pki.leaves) {
        if (!wants(leaf.name)) continue;
        const cert = lookup(`${leaf.name}.crt`);
        const key = lookup(`${leaf.name}.key`);
        if (cert !== undefined && key === undefined) {
          throw new ClusterError(`${leaf.name}.crt has no key: ${leaf.name}.key is missing from ${state.dir}`, `delete ${leaf.name}.crt there; the next run issues a new certificate and key`);
        }
        const issued = await issueLeaf(leaf, await ca(caSpec(plan, leaf)), now, key);
        if (key === undefined) out[`${leaf.name}.key`] = issued.key;
        out[`${leaf.name}.crt`] = issued.cert;
      }
      return out;
    },

    // A node that changed its address or name needs new certificates (the key stays).
    outdated(plan, have) {
      const same = (a: string[], b: string[]) => [...a].sort().join() === [...b].sort().join();
      return (plan.pki?.leaves ?? []).flatMap((leaf) => {
        const cert = have[`${leaf.name}.crt`];
        if (cert === undefined) return [];
        const info = describeCert(cert);
        const fits = info.commonName === leaf.commonName && same(info.organizations, leaf.organizations) && same(info.dnsNames, leaf.dnsNames) && same(info.ipAddresses, leaf.ipAddresses);
        return fits ? [] : [`${leaf.name}.crt`];
      });
    },
  };
}

export const pkiIssuer: SecretIssuer = makePkiIssuer();

function caSpec(plan: ClusterPlan, leaf: LeafSpec): CASpec {
  const spec = plan.pki!.cas.find((c) => c.name === leaf.ca);
  if (!spec) throw new Error(`pki plan: leaf ${leaf.name} names unknown CA ${leaf.ca}`);
  return spec;
}

/**
 * An existing CA is never replaced: everything it signed would stop working.
 * A new one is written to the state folder at once, key included (bundles carry
 * only some CA keys, so StateDir.ensure would not save the others).
 */
async function loadOrCreateCA(spec: CASpec, plan: ClusterPlan, have: Secrets, state: StateDir, now: Date): Promise<KeyPairPem> {
  const crtName = `${spec.name}.crt`;
  const keyName = `${spec.name}.key`;
  const cert = have[crtName] ?? state.read(crtName);
  const key = have[keyName] ?? state.read(keyName);
  if (cert !== undefined && key !== undefined) return { cert, key };
  if (cert !== undefined || key !== undefined) {
    const [present, absent] = cert !== undefined ? [crtName, keyName] : [keyName, crtName];
    throw new ClusterError(
      `the ${spec.name} CA is incomplete: ${present} exists but ${absent} is missing from ${state.dir}`,
      `restore ${absent} from a backup; to start over with a new CA, delete ${present} and every certificate it signed`,
    );
  }
  const orphans = plan.pki!.leaves.filter((l) => l.ca === spec.name && (have[`${l.name}.crt`] ?? state.read(`${l.name}.crt`)) !== undefined);
  if (orphans.length > 0) {
    throw new ClusterError(
      `the ${spec.name} CA is missing from ${state.dir} but certificates it signed remain (${orphans.map((l) => `${l.name}.crt`).join(', ')})`,
      `restore ${crtName} and ${keyName} from a backup, or delete those certificates and their keys to issue them from a new CA`,
    );
  }
  const pair = await createCA(spec, now);
  state.write(keyName, pair.key);
  state.write(crtName, pair.cert);
  return pair;
}
