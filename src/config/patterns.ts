// Strict shapes for every configuration string that ends up in a Dockerfile, a
// script, a compose file or a command-line flag. Anything else is refused, so no
// value can carry a newline, a quote or a shell character into those files.

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS_DOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** `<prefix>/<component>:<version>`: lowercase repository path components. */
export const IMAGE_PREFIX = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
/** Docker's reference grammar, restricted: [host[:port]/]path[:tag][@sha256:digest]. */
export const IMAGE_REFERENCE = new RegExp(
  `^(?=.{1,255}$)(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);
/** An absolute path of plain characters (the tutorial's BIN_PATH). */
export const ABSOLUTE_PATH = /^(?=.{1,4096}$)\/(?:[A-Za-z0-9._+-]+\/?)*$/;
/** A login name on the node (POSIX portable characters, lowercase first). */
export const SSH_USER = /^[a-z_][a-z0-9_.-]{0,31}$/;
/** A private key file: absolute, or under the home folder (~/...), of plain characters. */
export const KEY_PATH = /^(?=.{1,4096}$)(?:~|\/)(?:\/?[A-Za-z0-9._+-]+)*$/;
/** http(s) or file URL without spaces, quotes or shell characters. */
export const URL_PATTERN = /^(?=.{1,2048}$)(?:https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?|file:\/\/)(?:\/[A-Za-z0-9._~%+-]*)*$/;

/** A user's value inside a message: quoted, escapes visible, long values cut. */
export function quote(v: string, max = 60): string {
  const q = JSON.stringify(v);
  return q.length <= max ? q : `${q.slice(0, max - 2)}…"`;
}
