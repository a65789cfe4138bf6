// Test key pairs for SSH. ssh2's generateKeyPairSync('ed25519') now and then (~0.5 % of
// keys, measured: 14 of 3 000) writes a private key its own parser refuses ("Malformed
// OpenSSH private key"); the client then skips it and fails with "All configured
// authentication methods failed". Such a key is drawn again.
import ssh2 from 'ssh2';

export function ed25519Pair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const parsed = ssh2.utils.parseKey(pair.private);
    if (!(parsed instanceof Error)) return pair;
  }
}
