/**
 * PostgreSQL's own rule for the private key file (be-secure-common.c,
 * check_ssl_key_file_permissions): owned by the server's OS user with no
 * group/world access (0600), or owned by root with at most group read (0640).
 * A key that breaks it is refused at the next reload or restart. Pure.
 */
export interface FileOwnership {
  uid: number;
  mode: number;
}

export function keyPermissionProblem(file: FileOwnership, serverUid: number): string | undefined {
  const mode = (file.mode & 0o777).toString(8).padStart(4, '0');
  if (file.uid !== serverUid && file.uid !== 0) {
    return `the key file is owned by uid ${file.uid}; PostgreSQL requires the server's OS user (uid ${serverUid}) or root`;
  }
  if (file.uid === serverUid && file.uid !== 0 && (file.mode & 0o077) !== 0) {
    return `the key file has mode ${mode}; PostgreSQL refuses group or world access when the server's user owns it (use 0600)`;
  }
  if (file.uid === 0 && (file.mode & 0o037) !== 0) {
    return `the key file is owned by root with mode ${mode}; PostgreSQL allows at most group read (0640) for a root-owned key`;
  }
  return undefined;
}
