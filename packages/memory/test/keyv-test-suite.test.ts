import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { memoryStore } from '@org/cache-memory';
import Keyv from 'keyv';
import * as vitest from 'vitest';

// keyv's own adapter suite: memoryStore() must work for any keyv user. A fresh adapter per call,
// because Keyv keeps one namespace per adapter object (true of every keyv adapter).
const store = () => memoryStore();
keyvTestSuite(vitest, Keyv, store);
keyvIteratorTests(vitest, Keyv, store);
