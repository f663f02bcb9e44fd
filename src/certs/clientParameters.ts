/**
 * How a client uses a certificate from `pgssl client-cert`: the libpq
 * parameters (psql, node-pg, psycopg, Npgsql's names are the same) and the
 * pgJDBC ones, which need the key as DER PKCS#8 (NAME.pk8) because pgJDBC's
 * default key manager cannot read PEM. Pure.
 */

export interface ClientFiles {
  role: string;
  certPath: string;
  keyPath: string;
  pk8Path: string;
  caPath: string;
}

/** A libpq conninfo value: bare when it can be, else single-quoted with \ and ' escaped (libpq's "Connection Strings"). */
export function conninfoValue(value: string): string {
  return /^[^\s'\\]+$/.test(value) ? value : `'${value.replace(/[\\']/g, '\\$&')}'`;
}

export function libpqParameters(files: ClientFiles): Record<string, string> {
  return { sslmode: 'verify-full', sslrootcert: files.caPath, sslcert: files.certPath, sslkey: files.keyPath, user: files.role };
}

export function jdbcParameters(files: ClientFiles): Record<string, string> {
  return { sslmode: 'verify-full', sslrootcert: files.caPath, sslcert: files.certPath, sslkey: files.pk8Path, user: files.role };
}

export function psqlLine(files: ClientFiles): string {
  const conninfo = ['host=DBHOST', 'dbname=DBNAME', ...Object.entries(libpqParameters(files)).map(([k, v]) => `${k}=${conninfoValue(v)}`)].join(' ');
  return `psql "${conninfo.replace(/["\\$`]/g, '\\$&')}"`;
}

export function jdbcUrl(files: ClientFiles): string {
  const query = Object.entries(jdbcParameters(files)).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `jdbc:postgresql://DBHOST:5432/DBNAME?${query}`;
}

/** The pg_hba.conf user field for this role: double-quoted unless it is a plain name (a leading @ or + would change its meaning). */
export function hbaUserField(role: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/.test(role) ? role : `"${role}"`;
}
