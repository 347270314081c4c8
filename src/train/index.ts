/** train (work in progress). */
export {};
