/**
 * What a certificate proves about who is who. A certificate naming several principals lets its key
 * sign as each of them, exactly as an allowed_signers line listing the key for those names would;
 * so the person graph joins the certified key to every principal the certificate names, not only
 * to the one an approval was signed under. (Without this, one person's certificate for `alice` and
 * `alice-oncall` counted twice, and an initiator's certificate let them approve under the other
 * name.)
 *
 * For approvals, only signatures ssh-keygen has verified against the run's allowed_signers are read
 * here: that verification checked the CA's signature on the certificate, so the names are the CA's
 * word. For a signed start they are the initiator's claim, which only widens the exclusion.
 */
import { certificateOfSignature, type SshKeygenOptions } from './ssh';
import { embeddedKey } from './sshsig';
import { keyNode, nameNode, type PersonGraph } from './persons';

/** Principals named by certificates already read in this process, by signature text. */
const namesBySignature = new Map<string, readonly string[]>();
const NAMES_KEPT = 10_000;

/** The principals the certificate embedded in `signature` names; empty when it was signed with a plain key. */
export async function certifiedPrincipals(signature: string, ssh: SshKeygenOptions | undefined): Promise<readonly string[]> {
  if (!embeddedKey(signature)?.isCertificate) return [];
  const known = namesBySignature.get(signature);
  if (known) return known;
  // A certificate ssh-keygen verified but cannot describe: no names to add, and nothing counts
  // that would not without them (merging only removes votes).
  const principals = (await certificateOfSignature(signature, ssh))?.principals ?? [];
  if (namesBySignature.size >= NAMES_KEPT) namesBySignature.clear();
  namesBySignature.set(signature, principals);
  return principals;
}

/** Joins `fingerprint` (the certified key) to every principal in `principals`, saying which certificate said so. */
export function linkCertifiedNames(graph: PersonGraph, fingerprint: string, principals: readonly string[], what: string): void {
  for (const principal of principals) {
    graph.link(keyNode(fingerprint), nameNode(principal), `${what}: its certificate for key ${fingerprint} names ${principal}`);
  }
}
