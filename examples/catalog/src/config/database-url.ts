// DATABASE_URL can hold a password (in the user info, or as ?password= which node-postgres reads
// too); every message that shows the URL shows it through redactDatabaseUrl.

/** scheme://user: then everything up to the LAST @ (a password may hold an unencoded @, / or whitespace). */
const USER_INFO_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[\s\S]*@/i;
/** A query parameter naming a password (password, sslpassword, ...), whatever its case. */
const QUERY_PASSWORD = /([?&][^=&#]*password[^=&#]*=)[^&#]*/gi;

/** The URL without its password, for messages. Errs on hiding too much (never shows a part of the password). */
export function redactDatabaseUrl(url: string): string {
  return url.replace(USER_INFO_PASSWORD, '$1:***@').replace(QUERY_PASSWORD, '$1***');
}
