import { SANDBOX_PATHS, SANDBOX_USER } from '../../constants.js';

/**
 * Host files under /etc that programs need and that hold no secrets, bound read-only one by one when present.
 * Never the folder as a whole: it holds shadow, gshadow, sudoers, SSH host keys, /etc/ssl/private, npmrc tokens.
 * Note: inside the user namespace the sandbox user maps to the host user running Warren, so file modes are no
 * protection; only what is mounted is visible, which is why this is an allow-list.
 */
export const SAFE_ETC_ENTRIES: readonly { path: string; why: string }[] = [
  { path: '/etc/ssl/certs', why: 'system trust store (hashed links into /usr/share/ca-certificates)' },
  { path: '/etc/ssl/openssl.cnf', why: 'OpenSSL defaults' },
  { path: '/etc/ca-certificates', why: 'locally added roots referenced from /etc/ssl/certs' },
  { path: '/etc/ca-certificates.conf', why: 'list of enabled roots' },
  { path: '/etc/alternatives', why: 'Debian alternatives symlinks (editor, java, python …)' },
  { path: '/etc/ld.so.cache', why: 'dynamic linker cache' },
  { path: '/etc/ld.so.conf', why: 'dynamic linker search paths' },
  { path: '/etc/ld.so.conf.d', why: 'dynamic linker search paths' },
  { path: '/etc/localtime', why: 'time zone' },
  { path: '/etc/timezone', why: 'time zone name' },
  { path: '/etc/protocols', why: 'getprotobyname' },
  { path: '/etc/services', why: 'getservbyname' },
  { path: '/etc/mime.types', why: 'file type lookup' },
  { path: '/etc/terminfo', why: 'terminal descriptions' },
  { path: '/etc/inputrc', why: 'readline defaults' },
  { path: '/etc/os-release', why: 'distribution identity for installers' },
  { path: '/etc/debian_version', why: 'distribution identity for installers' },
  { path: '/etc/shells', why: 'valid login shells' },
  { path: '/etc/profile', why: 'login shell defaults' },
  { path: '/etc/bash.bashrc', why: 'bash defaults' },
  { path: '/etc/magic', why: 'file(1) data' },
  { path: '/etc/magic.mime', why: 'file(1) data' },
];

/** Files written per session and bound read-only over /etc/<name>: who the sandbox user is and what localhost is. */
export function buildGeneratedEtcFiles(hostname: string): { name: string; content: string }[] {
  const { name, uid, gid } = SANDBOX_USER;
  return [
    {
      name: 'passwd',
      content: [
        'root:x:0:0:root:/root:/usr/sbin/nologin',
        `${name}:x:${uid}:${gid}:Warren agent:${SANDBOX_PATHS.home}:/bin/bash`,
        'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
        '',
      ].join('\n'),
    },
    { name: 'group', content: ['root:x:0:', `${name}:x:${gid}:`, 'nogroup:x:65534:', ''].join('\n') },
    {
      name: 'hosts',
      content: `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback ${hostname}\n`,
    },
    { name: 'hostname', content: `${hostname}\n` },
    // No resolv.conf: names are resolved by the proxy; only /etc/hosts answers inside.
    {
      name: 'nsswitch.conf',
      content: 'passwd: files\ngroup: files\nhosts: files\nservices: files\nprotocols: files\n',
    },
  ];
}
