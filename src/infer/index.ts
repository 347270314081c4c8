/** infer (work in progress). */
export {};
