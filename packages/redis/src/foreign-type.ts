/** What a read answers for a key holding another Redis type than a string: core counts it as a corrupt entry. */
export const FOREIGN_TYPE = Object.freeze({ unreadable: 'WRONGTYPE: the key holds a non-string Redis type' });
