/** Why a recorded program cannot be replayed (a kernel or form the replay does not know). */
export class UnsupportedKernelError extends Error {}
