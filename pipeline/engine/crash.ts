/** Thrown by crash points in tests; the engine treats it as the process dying (no state write, no lock release). */
export class SimulatedCrash extends Error {
  constructor(readonly point: string) {
    super(`simulated crash at ${point}`);
    this.name = 'SimulatedCrash';
  }
}
