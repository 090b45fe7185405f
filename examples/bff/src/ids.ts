/**
 * Ids accepted from the outside world. Salesforce ids are 15 or 18 alphanumerics; the demo also
 * uses short readable ones (`001ACME`), so any 3 to 18 ASCII letters and digits are accepted.
 * WHMCS client ids are positive integers. Anything else never reaches a cache key or an upstream.
 */
export const SALESFORCE_ID = /^[A-Za-z0-9]{3,18}$/;
export const WHMCS_CLIENT_ID = /^[1-9][0-9]{0,9}$/;

export function isSalesforceId(value: unknown): value is string {
  return typeof value === 'string' && SALESFORCE_ID.test(value);
}

export function isWhmcsClientId(value: unknown): value is string {
  return typeof value === 'string' && WHMCS_CLIENT_ID.test(value);
}
