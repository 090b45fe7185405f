/**
 * `@org/cache-testing/processes`: Node child processes driven over IPC, for multi-process tests
 * (several caches in several processes on one store). The parent side (`ChildWorker`,
 * `startChildWorkers`, `stopAllChildWorkers`) and the worker script's side (`serveChildWorker`,
 * `sendToParent`, `describeWorkerError`). Kept off the root export: an application's unit tests
 * and a store author's contract run never need it.
 */
export {
  describeWorkerError,
  sendToParent,
  serveChildWorker,
  type WorkerErrorDescription,
  type WorkerOperation,
} from './child-serve.js';
export {
  ChildWorker,
  ChildWorkerError,
  type ChildWorkerOptions,
  startChildWorkers,
  stopAllChildWorkers,
} from './child-worker.js';
